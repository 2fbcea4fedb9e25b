# Guest-agent client: no greeting; an agent that does not echo ids is
# answered in order; guest-sync-delimited resynchronisation drops stale
# replies, the agent's answer to our 0xFF, and everything before its
# sentinel; requests in flight fail, new ones wait for the sync.
@client ga
call guest-info
< {"execute": "guest-info", "id": 1}
> {"return": {"version": "7.2.22"}}
! reply 1 return {"version": "7.2.22"}
call guest-get-time
< {"execute": "guest-get-time", "id": 2}
sync
! reply 2 failed -9
< {"execute": "guest-sync-delimited", "arguments": {"id": $SYNC1}}
call guest-ping
> {"return": 1700000000, "id": 2}
> {"error": {"class": "GenericError", "desc": "JSON parse error, stray '\uFFFD'"}}
>> garbage {"re
>> \xff{"return": 5}
> {"return": $SYNC1}
! ready 0
< {"execute": "guest-ping", "id": 3}
> {"return": {}, "id": 3}
! reply 3 return {}
sync
< {"execute": "guest-sync-delimited", "arguments": {"id": $SYNC2}}
>> \xff\xff{"return": $SYNC2}\n
! ready 0
