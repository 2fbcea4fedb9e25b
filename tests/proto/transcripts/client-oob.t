# Client asks for oob when offered and wanted; exec-oob then.
@client want-oob
> {"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 9}, "package": ""}, "capabilities": ["oob"]}}
! greeting
< {"execute": "qmp_capabilities", "arguments": {"enable": ["oob"]}, "id": 1}
> {"return": {}, "id": 1}
! ready 0
call slow
call-oob fast
< {"execute": "slow", "id": 2}
< {"exec-oob": "fast", "id": 3}
> {"return": 3, "id": 3}
! reply 3 return 3
> {"return": 2, "id": 2}
! reply 2 return 2
