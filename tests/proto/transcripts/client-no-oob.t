# oob wanted but not offered: plain negotiation, exec-oob sent in band.
@client want-oob
>> {"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 9}, "package": ""}, "capabilities": []}}
! greeting
< {"execute": "qmp_capabilities", "id": 1}
>> {"return": {}, "id": 1}
! ready 0
call-oob fast
< {"execute": "fast", "id": 2}
>> {"return": 3, "id": 2}{"timestamp": {"seconds": 5, "microseconds": 6}, "event": "E"}{"return": 4, "id": 2}
! reply 2 return 3
! event {"timestamp": {"seconds": 5, "microseconds": 6}, "event": "E"}
