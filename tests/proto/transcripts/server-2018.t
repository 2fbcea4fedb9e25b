# The 2018 OOB form (QEMU 2.12): "control": {"run-oob": true}, ids
# required once OOB is on.
@server oob compat2018
< {"QMP": {"version": {"qemu": {"micro": 0, "minor": 1, "major": 0}, "package": "qmpkit-0.1.0"}, "capabilities": ["oob"]}}
> {"execute": "echo", "control": {"run-oob": true}, "id": 0}
< {"id": 0, "error": {"class": "GenericError", "desc": "Please enable Out-Of-Band first for the session during capabilities negotiation"}}
> {"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}}
< {"return": {}}
> {"execute": "hold", "id": 2}
> {"execute": "echo"}
> {"execute": "echo", "control": 1, "id": 1}
> {"execute": "echo-oob", "control": {"run-oob": true}, "id": 3}
< {"return": {}, "id": 3}
> {"execute": "echo", "control": {"run-oob": true}, "id": 4}
< {"id": 4, "error": {"class": "GenericError", "desc": "The command echo does not support OOB"}}
> {"exec-oob": "echo-oob", "id": 5}
release
< {"return": {}, "id": 2}
< {"error": {"class": "GenericError", "desc": "Out-Of-Band capability requires that every command contains an 'id' field"}}
< {"id": 1, "error": {"class": "GenericError", "desc": "QMP input member 'control' must be a dict"}}
< {"id": 5, "error": {"class": "GenericError", "desc": "QMP input member 'exec-oob' is unexpected"}}
