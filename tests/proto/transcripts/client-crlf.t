# CRLF framing, and messages glued together without any newline.
@client max-in-flight=2
>> {"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 9}, "package": ""}, "capabilities": []}}\r\n
! greeting
< {"execute": "qmp_capabilities", "id": 1}
>> {"return": {}, "id": 1}\r\n
! ready 0
call a
call b
call c
! call c failed -5
< {"execute": "a", "id": 2}
< {"execute": "b", "id": 3}
>> {"return": "a", "id": 2}{"return": "b", "id": 3}
! reply 2 return "a"
! reply 3 return "b"
call d
< {"execute": "d", "id": 4}
>> {"return": "d", "id": 4}\r\n
! reply 4 return "d"
