# -compat deprecated-input=reject,unstable-input=reject (5.4 step 6).
@server reject-deprecated reject-unstable
< {"QMP": {"version": {"qemu": {"micro": 0, "minor": 1, "major": 0}, "package": "qmpkit-0.1.0"}, "capabilities": []}}
> {"execute":"qmp_capabilities"}
< {"return": {}}
> {"execute": "old", "id": 1}
< {"id": 1, "error": {"class": "CommandNotFound", "desc": "Deprecated command old disabled by policy"}}
> {"execute": "new", "id": 2}
< {"id": 2, "error": {"class": "CommandNotFound", "desc": "Unstable command new disabled by policy"}}
