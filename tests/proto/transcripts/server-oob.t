# Out-of-band requests overtake a held in-band one (5.7).
@server oob
< {"QMP": {"version": {"qemu": {"micro": 0, "minor": 1, "major": 0}, "package": "qmpkit-0.1.0"}, "capabilities": ["oob"]}}
> {"execute": "qmp_capabilities", "arguments": {"enable": ["oob", "oob"]}}
< {"return": {}}
> {"execute": "hold", "id": "slow"}
> {"execute": "echo", "arguments": {"n": 1}, "id": "queued"}
> {"exec-oob": "echo-oob", "arguments": {"n": 2}, "id": "fast"}
< {"return": {"n": 2}, "id": "fast"}
> {"exec-oob": "echo", "id": "no"}
< {"id": "no", "error": {"class": "GenericError", "desc": "The command echo does not support OOB"}}
> {"exec-oob": "echo-oob", "execute": "echo", "id": "both"}
> {"exec-oob": 1, "id": "n"}
< {"id": "n", "error": {"class": "GenericError", "desc": "QMP input member 'exec-oob' must be a string"}}
> {"exec-oob": "qmp_capabilities", "id": "c"}
< {"id": "c", "error": {"class": "GenericError", "desc": "The command qmp_capabilities does not support OOB"}}
> {"exec-oob": "nope"}
< {"error": {"class": "CommandNotFound", "desc": "The command nope has not been found"}}
release
< {"return": {}, "id": "slow"}
< {"return": {"n": 1}, "id": "queued"}
< {"id": "both", "error": {"class": "GenericError", "desc": "QMP input member 'execute' clashes with 'exec-oob'"}}
