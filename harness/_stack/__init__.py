"""The parts `harness.stack.Stack` delegates to, one concern a module:

- `inspection`: what runs in a project: containers, host processes, health, events, logs
- `addresses`: where a service listens: `Address`, published ports, free ports
- `health`: waiting until services are healthy, and the error that says why not
- `proxies`: the stack's Toxiproxy: its API, one proxy per service and namespace
- `scraping`: the stack's Prometheus: whether it runs, what it scrapes, links to it
- `starter`: starting one service under test (a container or a host process)
- `lifecycle`: the compose files, `up` to healthy, `down`
"""
