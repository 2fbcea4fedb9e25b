# Client role: events wherever they arrive, requests held until the
# negotiation ends, replies matched by id in any order, unknown ids
# dropped, an id-less error reported without breaking the session.
@client
> {"timestamp": {"seconds": 1, "microseconds": 2}, "event": "EARLY"}
! event {"timestamp": {"seconds": 1, "microseconds": 2}, "event": "EARLY"}
call query-status
> {"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": ""}, "capabilities": ["oob"]}}
! greeting
< {"execute": "qmp_capabilities", "id": 2}
> {"timestamp": {"seconds": 3, "microseconds": 4}, "event": "BETWEEN"}
! event {"timestamp": {"seconds": 3, "microseconds": 4}, "event": "BETWEEN"}
> {"return": {}, "id": 2}
! ready 0
< {"execute": "query-status", "id": 1}
call query-version {}
< {"execute": "query-version", "arguments": {}, "id": 3}
call echo {"a": [1, "two", null]}
< {"execute": "echo", "arguments": {"a": [1, "two", null]}, "id": 4}
> {"return": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": ""}, "id": 3}
! reply 3 return {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": ""}
> {"timestamp": {"seconds": 5, "microseconds": 6}, "event": "STOP"}
! event {"timestamp": {"seconds": 5, "microseconds": 6}, "event": "STOP"}
> {"return": {}, "id": 99}
> {"return": {}, "id": "2"}
> {"error": {"class": "GenericError", "desc": "JSON parse error, expecting value"}}
! error GenericError JSON parse error, expecting value
> {"id": 1, "error": {"class": "CommandNotFound", "desc": "The command query-status has not been found"}}
! reply 1 error CommandNotFound The command query-status has not been found
> {"id": 4, "error": {"class": "SomethingNew", "desc": "x"}}
! reply 4 error GenericError x
# garbage from the server is reported, the session goes on
> nonsense
! error GenericError JSON parse error, invalid keyword 'nonsense'
call quit
< {"execute": "quit", "id": 5}
> {"return": {}, "id": 5}
! reply 5 return {}
