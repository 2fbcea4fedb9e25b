# An event raised while a command runs goes out before its reply (5.6);
# events carry data only when given.
@server
< {"QMP": {"version": {"qemu": {"micro": 0, "minor": 1, "major": 0}, "package": "qmpkit-0.1.0"}, "capabilities": []}}
> {"execute": "qmp_capabilities"}
< {"return": {}}
> {"execute": "hold", "id": 15}
emit RESUME
< {"timestamp": {"seconds": 1234567890, "microseconds": 123456}, "event": "RESUME"}
emit BLOCK_IO_ERROR {"device": "", "node-name": "n\u00e9", "operation": "write", "action": "report"}
< {"timestamp": {"seconds": 1234567890, "microseconds": 123456}, "event": "BLOCK_IO_ERROR", "data": {"device": "", "node-name": "n\u00e9", "operation": "write", "action": "report"}}
release
< {"return": {}, "id": 15}
