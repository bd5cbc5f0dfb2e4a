"""The bridge's routes, one module per audience; handoff/app.py assembles them.

- common.py: the route table's row (``Endpoint``), credentials, bodies, path parameters;
- agents.py: the agent console's API (/api/*, agent token);
- agent_socket.py: the console's live WebSocket (/ws/agent);
- internal.py: the bot side (/internal/*, internal token);
- customers.py: REST customers' poll and the chat page's hints (/customer/*);
- pages.py: HTML pages, /config.js, /health, /openapi.json.
"""
