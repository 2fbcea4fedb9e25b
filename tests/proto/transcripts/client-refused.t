# The server refuses the negotiation: held requests fail, session fails.
@client want-oob
call first
> {"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 9}, "package": ""}, "capabilities": ["oob"]}}
! greeting
< {"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}, "id": 2}
> {"id": 2, "error": {"class": "GenericError", "desc": "Capability oob not available"}}
! ready -9 GenericError Capability oob not available
! reply 1 failed -9
call second
! call second failed -9
