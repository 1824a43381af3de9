#!/usr/bin/env python3
"""A GinsFSM 0.7.3 gaplic with its router and one gobj, `pyecho`, for the
interoperability tests of gaplic-router.

It runs the installed package unchanged: the compatibility shims below are
applied at start-up, before GinsFSM is imported, and touch no file.

What it does:
- `pyecho` answers `EV_QUERY {data}` by sending `EV_QUERY_ANSWER {data}` back
  to the origin gobj, and returns `{"echo": data}` (what a
  `__subscribe_response__` sender gets as `__action_return__`);
- `pyecho` publishes `EV_EMITTED {data}` on the command `emit DATA`;
- every event `pyecho` receives, every route opened and every new dynamic
  route is written to standard output as one JSON object per line;
- commands come on standard input, one per line:
    emit DATA                                   publish EV_EMITTED {data: DATA}
    send GAPLIC ROLE GOBJ EVENT JSON            send_event_outside (JSON is the kw;
                                                `-` stands for an empty role or gaplic)
    subscribe GAPLIC ROLE GOBJ EVENT            subscribe_event_outside
  End of input stops the gaplic, and so does `--lifetime` seconds.

Usage:
    ginsfsm_peer.py --name NAME [--roles R1,R2] [--listen PORT]
                    [--route "NAME, ROLE1+ROLE2, ws://HOST:PORT"]
                    [--hello GAPLIC,ROLE,GOBJ,EVENT] [--lifetime SECONDS] [--trace]
    ginsfsm_peer.py --check       import GinsFSM with the shims and exit
"""

import argparse
import array
import base64
import collections
import collections.abc
import json
import logging
import queue
import sys
import threading
import time


def apply_shims():
    """Makes GinsFSM 0.7.3 importable and working on Python 3.10 and later,
    without editing it."""
    # The ABCs left `collections` for `collections.abc` in Python 3.10.
    for name in collections.abc.__all__:
        if not hasattr(collections, name):
            setattr(collections, name, getattr(collections.abc, name))
    # `encodestring`/`decodestring` were removed in Python 3.9.
    if not hasattr(base64, "encodestring"):
        base64.encodestring = base64.encodebytes
    if not hasattr(base64, "decodestring"):
        base64.decodestring = base64.decodebytes


def patch_websocket_masking():
    """GWebSocket.mask returns `array.array.tostring()`, removed in Python
    3.9: give the class a mask that returns `tobytes()`."""
    from ginsfsm.protocols.sockjs.server import c_websocket

    def mask(self, mask_key, data):
        key = array.array("B", mask_key)
        out = array.array("B", data)
        for i in range(len(out)):
            out[i] ^= key[i % 4]
        return out.tobytes()

    c_websocket.GWebSocket.mask = mask


apply_shims()


def report(what, **fields):
    fields["what"] = what
    sys.stdout.write(json.dumps(fields, default=repr) + "\n")
    sys.stdout.flush()


def intra_origin(event):
    intra = event.kw.get("__intra_event__")
    if intra is None:
        return {}
    return {
        "origin_gaplic": intra.origin_gaplic,
        "origin_role": intra.origin_role,
        "origin_gobj": intra.origin_gobj,
        "serial": intra.serial,
    }


def plain_kw(event):
    return {k: v for k, v in event.kw.items() if k != "__intra_event__"}


def build(args):
    patch_websocket_masking()
    from ginsfsm.gaplic import GAplic
    from ginsfsm.gobj import GObj

    def ac_query(self, event):
        kw = plain_kw(event)
        origin = intra_origin(event)
        report("recv", event=event.event_name, kw=kw, **origin)
        data = kw.get("data")
        if origin.get("origin_gaplic") and origin.get("origin_gobj"):
            role = origin.get("origin_role") or ""
            if not isinstance(role, str):
                role = ""
            self.gaplic.send_event_outside(
                origin["origin_gaplic"], role, origin["origin_gobj"],
                "EV_QUERY_ANSWER", self.name, data=data)
        return {"echo": data}

    def ac_record(self, event):
        report("recv", event=event.event_name, kw=plain_kw(event),
               **intra_origin(event))
        return True

    def ac_route_opened(self, event):
        route = event.kw.get("route")
        report("route_opened", gaplic=getattr(route, "gaplic_name", None),
               their_roles=getattr(route, "their_roles", None))
        self.gaplic.add_callback(self.say_hello, getattr(route, "gaplic_name", None))

    def ac_new_dynamic_route(self, event):
        report("new_dynamic_route", gaplic=event.kw.get("gaplic_name"),
               roles=event.kw.get("roles"))
        self.gaplic.add_callback(self.say_hello, event.kw.get("gaplic_name"))

    def ac_route_closed(self, event):
        route = event.kw.get("route")
        report("route_closed", gaplic=getattr(route, "gaplic_name", None))

    fsm = {
        "event_list": (
            "EV_QUERY: top input",
            "EV_QUERY_ANSWER: top input",
            "EV_NOTE: top input",
            "EV_TICK: top input",
            "EV_STATIC_ROUTE_OPENED: bottom input",
            "EV_STATIC_ROUTE_CLOSED: bottom input",
            "EV_NEW_DYNAMIC_ROUTE: bottom input",
            "EV_EMITTED: top input output",
        ),
        "state_list": ("ST_IDLE",),
        "machine": {
            "ST_IDLE": (
                ("EV_QUERY", ac_query, None),
                ("EV_QUERY_ANSWER", ac_record, None),
                ("EV_NOTE", ac_record, None),
                ("EV_TICK", ac_record, None),
                ("EV_EMITTED", ac_record, None),
                ("EV_STATIC_ROUTE_OPENED", ac_route_opened, None),
                ("EV_STATIC_ROUTE_CLOSED", ac_route_closed, None),
                ("EV_NEW_DYNAMIC_ROUTE", ac_new_dynamic_route, None),
            ),
        },
    }

    class PyEcho(GObj):
        def __init__(self):
            GObj.__init__(self, fsm, {})
            self.hello = args.hello
            self.said_hello = set()

        def say_hello(self, gaplic_name):
            if not self.hello or gaplic_name in self.said_hello:
                return
            self.said_hello.add(gaplic_name)
            gaplic, role, gobj, event_name = self.hello.split(",")
            self.gaplic.send_event_outside(
                gaplic, role, gobj, event_name, self.name, data="hello")

    ini = {"router_enabled": True}
    if args.listen:
        ini["GRouter.server"] = True
        ini["GRouter.localhost_route_ports"] = [args.listen]
        ini["GServerSock.host"] = "127.0.0.1"
    if args.route:
        ini["GRouter.static_routes"] = args.route
    if args.trace:
        ini["GRouter.trace_router"] = True
    roles = tuple(r for r in args.roles.split(",") if r) or None
    ga = GAplic(name=args.name, roles=roles, **ini)
    pyecho = ga.create_gobj("pyecho", PyEcho, ga, __unique_name__=True)
    for name in ("EV_STATIC_ROUTE_OPENED", "EV_STATIC_ROUTE_CLOSED",
                 "EV_NEW_DYNAMIC_ROUTE"):
        ga.router.subscribe_event(name, pyecho)
    return ga, pyecho


def read_commands(commands):
    for line in sys.stdin:
        commands.put(line.strip())
    commands.put(None)


def run_command(ga, pyecho, line):
    words = line.split(" ", 5)
    kind = words[0]
    dash = lambda w: "" if w == "-" else w
    if kind == "emit" and len(words) >= 2:
        pyecho.broadcast_event("EV_EMITTED", data=line.split(" ", 1)[1])
    elif kind == "send" and len(words) == 6:
        _, gaplic, role, gobj, event_name, kw = words
        ga.send_event_outside(dash(gaplic), dash(role), gobj, event_name,
                              pyecho.name, **json.loads(kw))
    elif kind == "subscribe" and len(words) == 5:
        _, gaplic, role, gobj, event_name = words
        ga.subscribe_event_outside(dash(gaplic), dash(role), gobj, event_name,
                                   pyecho.name)
    else:
        report("bad_command", line=line)
        return
    report("done", line=line)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", default="pyga")
    parser.add_argument("--roles", default="")
    parser.add_argument("--listen", type=int, default=0)
    parser.add_argument("--route", default="")
    parser.add_argument("--hello", default="")
    parser.add_argument("--lifetime", type=float, default=60.0)
    parser.add_argument("--trace", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.trace else logging.WARNING,
                        stream=sys.stderr)
    if args.check:
        patch_websocket_masking()
        import ginsfsm.router  # noqa: F401
        print("ginsfsm ok")
        return 0

    ga, pyecho = build(args)
    commands = queue.Queue()
    threading.Thread(target=read_commands, args=(commands,), daemon=True).start()
    report("ready", name=args.name, listen=args.listen)
    deadline = time.monotonic() + args.lifetime
    while time.monotonic() < deadline:
        ga._loop()
        try:
            while True:
                line = commands.get_nowait()
                if line is None:
                    report("stopped", reason="end of input")
                    return 0
                if line:
                    try:
                        run_command(ga, pyecho, line)
                    except Exception as error:  # reported, the gaplic goes on
                        report("command_failed", line=line, error=str(error))
        except queue.Empty:
            pass
    report("stopped", reason="lifetime")
    return 0


if __name__ == "__main__":
    sys.exit(main())
