# Greeting, negotiation mode, command mode (checklist 5.2, 5.3).
@server
< {"QMP": {"version": {"qemu": {"micro": 0, "minor": 1, "major": 0}, "package": "qmpkit-0.1.0"}, "capabilities": []}}
# events are not delivered before negotiation
emit SHUTDOWN {"guest": false}
> {"execute": "query-status", "id": 1}
< {"id": 1, "error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}}
> {"execute": "no-such", "id": "x"}
< {"id": "x", "error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}}
> {"execute": "query-version"}
< {"error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}}
> {"exec-oob": "query-status", "id": 2}
< {"id": 2, "error": {"class": "GenericError", "desc": "QMP input member 'exec-oob' is unexpected"}}
> {"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}, "id": 3}
< {"id": 3, "error": {"class": "GenericError", "desc": "Capability oob not available"}}
> {"execute": "qmp_capabilities", "arguments": {"enable": "oob"}, "id": 4}
< {"id": 4, "error": {"class": "GenericError", "desc": "Invalid parameter type for 'enable', expected: array"}}
> {"execute": "qmp_capabilities", "arguments": {"enable": [1]}, "id": 5}
< {"id": 5, "error": {"class": "GenericError", "desc": "Invalid parameter type for 'enable[0]', expected: string"}}
> {"execute": "qmp_capabilities", "arguments": {"bogus": 1}, "id": 6}
< {"id": 6, "error": {"class": "GenericError", "desc": "Parameter 'bogus' is unexpected"}}
> {"execute": "qmp_capabilities", "arguments": {"enable": []}, "id": 7}
< {"return": {}, "id": 7}
> {"execute": "qmp_capabilities", "id": 8}
< {"id": 8, "error": {"class": "CommandNotFound", "desc": "Capabilities negotiation is already complete, command ignored"}}
emit SHUTDOWN {"guest": false}
< {"timestamp": {"seconds": 1234567890, "microseconds": 123456}, "event": "SHUTDOWN", "data": {"guest": false}}
emit RESUME
< {"timestamp": {"seconds": 1234567890, "microseconds": 123456}, "event": "RESUME"}
> {"execute": "query-version", "id": 9}
< {"return": {"qemu": {"micro": 0, "minor": 1, "major": 0}, "package": "qmpkit-0.1.0"}, "id": 9}
> {"execute": "query-status", "id": 10}
< {"return": {"status": "running", "singlestep": false, "running": true}, "id": 10}
> {"execute": "query-qmp-schema", "id": 11}
< {"id": 11, "error": {"class": "CommandNotFound", "desc": "The command query-qmp-schema has not been found"}}
