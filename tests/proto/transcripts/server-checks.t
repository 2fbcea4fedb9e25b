# Request checks in qmp_dispatch's order, ids echoed verbatim (5.4, 5.6).
@server
< {"QMP": {"version": {"qemu": {"micro": 0, "minor": 1, "major": 0}, "package": "qmpkit-0.1.0"}, "capabilities": []}}
> {"execute":"qmp_capabilities"}
< {"return": {}}
> [1, 2]
< {"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}}
> 42
< {"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}}
> {}
< {"error": {"class": "GenericError", "desc": "QMP input lacks member 'execute'"}}
> {"id": null}
< {"id": null, "error": {"class": "GenericError", "desc": "QMP input lacks member 'execute'"}}
> {"execute": true, "id": [1, {"a": null}]}
< {"id": [1, {"a": null}], "error": {"class": "GenericError", "desc": "QMP input member 'execute' must be a string"}}
# 'arguments' (bucket 447) is met before 'foo'? no: 'foo' is checked in QEMU's hash order
> {"execute": "echo", "arguments": 1, "id": 1.5}
< {"id": 1.5, "error": {"class": "GenericError", "desc": "QMP input member 'arguments' must be an object"}}
> {"execute": "echo", "zzz": 1, "id": 18446744073709551615}
< {"id": 18446744073709551615, "error": {"class": "GenericError", "desc": "QMP input member 'zzz' is unexpected"}}
> {"execute": "echo", "control": {"run-oob": true}, "id": 's'}
< {"id": "s", "error": {"class": "GenericError", "desc": "QMP input member 'control' is unexpected"}}
> {"execute": "echo", "arguments": {"a": "t\u00e9st\ud83d\ude00"}, "id": 'it\'s'}
< {"return": {"a": "t\u00E9st\uD83D\uDE00"}, "id": "it's"}
> {"execute": "nope", "id": 2}
< {"id": 2, "error": {"class": "CommandNotFound", "desc": "The command nope has not been found"}}
> {"execute": "off", "id": 3}
< {"id": 3, "error": {"class": "CommandNotFound", "desc": "Command off has been disabled"}}
> {"execute": "off2", "id": 4}
< {"id": 4, "error": {"class": "CommandNotFound", "desc": "Command off2 has been disabled: frozen"}}
> {"execute": "old", "id": 5}
< {"return": {}, "id": 5}
> {"execute": "no-reply", "id": 6}
> {"execute": "fail", "arguments": {"class": "DeviceNotFound", "desc": "no such device"}, "id": 7}
< {"id": 7, "error": {"class": "DeviceNotFound", "desc": "no such device"}}
> {"execute": "query-version", "arguments": {"x": 1}, "id": 8}
< {"id": 8, "error": {"class": "GenericError", "desc": "Parameter 'x' is unexpected"}}
> {"execute": "query-commands", "arguments": {}, "id": 9}
< {"return": [{"name": "hold"}, {"name": "count-fds"}, {"name": "new"}, {"name": "old"}, {"name": "no-reply"}, {"name": "fail"}, {"name": "echo-oob"}, {"name": "echo"}, {"name": "query-yank"}, {"name": "migrate-pause"}, {"name": "query-status"}, {"name": "query-commands"}, {"name": "query-version"}, {"name": "qmp_capabilities"}], "id": 9}
# parse errors have no id; the stream goes on
> {"execute": "echo", "id": 10,}
< {"error": {"class": "GenericError", "desc": "JSON parse error, expecting value"}}
> {"execute": "echo", "id": 11}
< {"return": {}, "id": 11}
