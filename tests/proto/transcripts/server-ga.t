# Guest-agent dialect: no greeting, LF endings, guest-sync(-delimited)
# with the 0xFF prefix, resynchronisation on an input 0xFF (5.10).
@server ga
> {"execute": "qmp_capabilities"}
<= {"error": {"class": "CommandNotFound", "desc": "The command qmp_capabilities has not been found"}}\n
> {"execute": "guest-sync", "arguments": {"id": 124}}
<= {"return": 124}\n
> {"execute": "guest-sync-delimited", "arguments": {"id": 123}, "id": 1}
<= \xff{"return": 123, "id": 1}\n
> {"execute": "guest-sync-delimited", "arguments": {"id": "x"}}
<= {"error": {"class": "GenericError", "desc": "Invalid parameter type for 'id', expected: integer"}}\n
> {"execute": "guest-sync", "arguments": {}}
<= {"error": {"class": "GenericError", "desc": "Parameter 'id' is missing"}}\n
>> {"execute": "guest-sy\xff
<= {"error": {"class": "GenericError", "desc": "JSON parse error, stray '\"guest-sy\uFFFD'"}}\n
> {"execute": "query-status"}
<= {"return": {"status": "running", "singlestep": false, "running": true}}\n
emit SHUTDOWN
> {"execute": "no-reply"}
