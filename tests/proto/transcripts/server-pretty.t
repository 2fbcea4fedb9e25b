# Pretty output: 4 spaces a level, CRLF after every line (5.1).
@server pretty
<= {\r\n    "QMP": {\r\n        "version": {\r\n            "qemu": {\r\n                "micro": 0,\r\n                "minor": 1,\r\n                "major": 0\r\n            },\r\n            "package": "qmpkit-0.1.0"\r\n        },\r\n        "capabilities": [\r\n        ]\r\n    }\r\n}\r\n
> {"execute": "qmp_capabilities", "id": 1}
<= {\r\n    "return": {\r\n    },\r\n    "id": 1\r\n}\r\n
> {"execute": "x", "id": 2}
<= {\r\n    "id": 2,\r\n    "error": {\r\n        "class": "CommandNotFound",\r\n        "desc": "The command x has not been found"\r\n    }\r\n}\r\n
