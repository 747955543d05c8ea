#!/usr/bin/env python3
"""Load, fault and hostile-client driver for certskew proxy (loopback only).

Used by tests/e2e/test_reliability_load.sh (modest, in ctest) and
bench/soak_proxy.sh (the full soak, on demand).

  soak_load.py serve CERTDIR K
      HTTPS upstreams on 127.0.0.1: K keep-alive servers (CERTDIR/leafI.pem,
      .key, one distinct chain per port), one that resets every connection
      in the middle of the TLS handshake, one that resets in the middle of a
      response body (CERTDIR/resetleaf.*). Prints one JSON line with ports.

  soak_load.py load --proxy PORT --ca FILE --ports P1,P2,.. [options]
      Drives the proxy and prints one JSON object of results (see main()).

  soak_load.py capture PROXY P1,P2,.. PER_PORT CONCURRENCY
      CONNECTs only (the proxy captures and judges each upstream chain);
      prints "OK PORT" as soon as each is answered 200.

Upstream resources: GET /b/SIZE/SEED -> SIZE bytes of SHA-256(SEED) repeated
(the client checks every byte); GET /big/SIZE -> SIZE bytes, streamed.
"""
import argparse
import asyncio
import hashlib
import json
import os
import random
import socket
import ssl
import struct
import sys
import time


def body_for(size, seed):
    unit = hashlib.sha256(seed.encode()).digest()
    return (unit * (size // 32 + 1))[:size]


# ---------------------------------------------------------------- upstreams

async def read_head(reader):
    data = await reader.readuntil(b"\r\n\r\n")
    return data.decode("latin1").split("\r\n")


async def handle_ok(reader, writer):
    try:
        while True:
            try:
                lines = await read_head(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            path = lines[0].split(" ")[1]
            parts = path.split("/")
            if parts[1] == "b":
                body = body_for(int(parts[2]), parts[3])
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
                await writer.drain()
            elif parts[1] == "big":
                size = int(parts[2])
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
                chunk = b"z" * 65536
                sent = 0
                while sent < size:
                    # Over TLS, once the peer is gone Python's drain() returns
                    # at once without yielding, and writes to the dead socket
                    # only log "socket.send() raised exception.": the loop
                    # never runs connection_lost, so a handler whose client
                    # left spins through the rest of its 1 GB, and 150 of them
                    # starve every other connection (later handshakes time
                    # out at the proxy: 504). Yielding lets connection_lost
                    # run; then the transport says it is closing.
                    await asyncio.sleep(0)
                    if writer.is_closing():
                        return
                    n = min(len(chunk), size - sent)
                    writer.write(chunk[:n])
                    await writer.drain()
                    sent += n
            else:
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
    except (ConnectionError, ssl.SSLError, OSError):
        pass
    finally:
        writer.close()


def rst(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def handle_reset_hs(reader, writer):
    # Read the ClientHello, then reset: the handshake dies in the middle.
    try:
        await reader.read(64)
    except ConnectionError:
        pass
    rst(writer)


async def handle_reset_body(reader, writer):
    try:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n" + b"r" * 65536)
        await writer.drain()
        await asyncio.sleep(0.05)
    except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
        pass
    rst(writer)


def server_ctx(certdir, name):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(certdir, name + ".pem"), os.path.join(certdir, name + ".key"))
    return ctx


async def serve(certdir, k):
    ports = []
    servers = []
    for i in range(k):
        s = await asyncio.start_server(handle_ok, "127.0.0.1", 0, ssl=server_ctx(certdir, "leaf%d" % i),
                                       backlog=2048, ssl_handshake_timeout=120)
        servers.append(s)
        ports.append(s.sockets[0].getsockname()[1])
    s_hs = await asyncio.start_server(handle_reset_hs, "127.0.0.1", 0, backlog=512)
    s_body = await asyncio.start_server(handle_reset_body, "127.0.0.1", 0,
                                        ssl=server_ctx(certdir, "resetleaf"), backlog=512)
    print(json.dumps({"ok_ports": ports, "reset_hs": s_hs.sockets[0].getsockname()[1],
                      "reset_body": s_body.sockets[0].getsockname()[1]}), flush=True)
    await asyncio.Event().wait()


# ------------------------------------------------------------------ clients

class Stats:
    def __init__(self):
        self.tunnels_ok = 0
        self.tunnels_failed = 0
        self.requests_ok = 0
        self.requests_failed = 0
        self.bytes = 0
        self.per_port = {}
        self.errors = {}
        self.open_tunnels = 0
        self.peak_open = 0
        self.rss_samples = []
        self.fd_samples = []

    def err(self, what):
        self.errors[what] = self.errors.get(what, 0) + 1


async def connect_tunnel(args, host, port, timeout=60):
    """CONNECT through the proxy; returns (reader, writer, status line)."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", args.proxy, limit=1 << 20), timeout)
    writer.write(("CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (host, port, host, port)).encode())
    lines = await asyncio.wait_for(read_head(reader), timeout)
    return reader, writer, lines[0]


async def start_tls(args, reader, writer, host):
    ctx = ssl.create_default_context(cafile=args.ca)
    await asyncio.wait_for(writer.start_tls(ctx, server_hostname=host), 60)


async def http_get(reader, writer, path, timeout=60):
    writer.write(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path).encode())
    lines = await asyncio.wait_for(read_head(reader), timeout)
    status = int(lines[0].split(" ")[1])
    length = 0
    code = None
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.lower() == "content-length":
            length = int(v)
        if k.lower() == "x-certskew-error":
            code = v.strip()
    body = await asyncio.wait_for(reader.readexactly(length), timeout)
    return status, body, code


async def tunnel_worker(args, st, idx, port, nreq, gate, ready, go):
    try:
        async with gate:
            reader, writer, status = await connect_tunnel(args, "127.0.0.1", port)
            if " 200 " not in status:
                raise RuntimeError("CONNECT " + status)
            await start_tls(args, reader, writer, "127.0.0.1")
    except Exception as e:  # noqa: BLE001 - every failure is counted
        st.tunnels_failed += 1
        st.err("tunnel: " + type(e).__name__ + " " + str(e)[:60])
        ready()
        return
    st.tunnels_ok += 1
    st.per_port[port] = st.per_port.get(port, 0) + 1
    st.open_tunnels += 1
    st.peak_open = max(st.peak_open, st.open_tunnels)
    ready()
    await go.wait()  # every tunnel is open at once before the requests start
    rnd = random.Random(idx)
    try:
        for r in range(nreq):
            size = rnd.choice((0, 1, 100, 1500, 4096, 16384, 65536))
            seed = "%d-%d" % (idx, r)
            status, body, _ = await http_get(reader, writer, "/b/%d/%s" % (size, seed))
            if status == 200 and body == body_for(size, seed):
                st.requests_ok += 1
                st.bytes += size
            else:
                st.requests_failed += 1
                st.err("body mismatch")
    except Exception as e:  # noqa: BLE001
        st.requests_failed += 1
        st.err("request: " + type(e).__name__)
    finally:
        st.open_tunnels -= 1
        writer.close()


async def loris_worker(args, port, out):
    """Sends a request head one byte per second; records when the proxy hangs up."""
    t0 = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", args.proxy)
    except OSError as e:
        out.append({"refused": str(e)})
        return
    head = ("CONNECT 127.0.0.1:%d HTTP/1.1\r\nX-Slow: " % port).encode() + b"a" * 4096
    answer = b""
    try:
        for b in head:
            writer.write(bytes([b]))
            await writer.drain()
            try:
                got = await asyncio.wait_for(reader.read(256), 1.0)
                if got == b"":
                    break
                answer += got
                break
            except asyncio.TimeoutError:
                pass
            if time.monotonic() - t0 > args.loris_seconds:
                break
    except (ConnectionError, OSError):
        pass
    out.append({"closed_after_s": round(time.monotonic() - t0, 2),
                "answer": answer.split(b"\r\n")[0].decode("latin1")})
    writer.close()


async def noread_worker(args, port, hold, out):
    """Asks for a huge body and never reads it for `hold` seconds."""
    stage = "connect"
    try:
        reader, writer, status = await connect_tunnel(args, "127.0.0.1", port)
        if " 200 " not in status:
            out.append("refused: " + status.strip()[:60])
            writer.close()
            return
        stage = "tls"
        await start_tls(args, reader, writer, "127.0.0.1")
        stage = "request"
        writer.write(b"GET /big/1073741824 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await writer.drain()
        # Stop reading: pause the transport so the kernel buffers fill up.
        writer.transport.pause_reading()
        await asyncio.sleep(hold)
        out.append("held")
        writer.transport.abort()
    except Exception as e:  # noqa: BLE001
        out.append("failed in %s: %s %s" % (stage, type(e).__name__, str(e)[:60]))


async def fault_worker(args, host, port, kind, out):
    """A tunnel whose upstream fails; records what the client gets."""
    try:
        reader, writer, status = await connect_tunnel(args, host, port)
        if " 200 " not in status:
            out.append("%s connect %s" % (kind, status.split(" ")[1]))
            writer.close()
            return
        await start_tls(args, reader, writer, host)
        if kind == "reset_body":
            writer.write(b"GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            lines = await asyncio.wait_for(read_head(reader), 30)
            got = 0
            while True:
                b = await asyncio.wait_for(reader.read(65536), 30)
                if not b:
                    break
                got += len(b)
            out.append("reset_body status %s truncated %s" % (lines[0].split(" ")[1], got < 1048576))
        else:
            status, body, code = await http_get(reader, writer, "/")
            out.append("%s %d %s" % (kind, status, code))
        writer.close()
    except Exception as e:  # noqa: BLE001
        out.append("%s %s" % (kind, type(e).__name__))


def read_rss(pid):
    if not pid:
        return 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def sampler(args, st, stop):
    if not args.pid:
        return
    while not stop.is_set():
        try:
            with open("/proc/%d/status" % args.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        st.rss_samples.append((int(line.split()[1]), st.open_tunnels))
            st.fd_samples.append(len(os.listdir("/proc/%d/fd" % args.pid)))
        except OSError:
            return
        await asyncio.sleep(0.1)


async def load(args):
    st = Stats()
    ports = [int(p) for p in args.ports.split(",")]
    t0 = time.monotonic()
    stop = asyncio.Event()
    samp = asyncio.create_task(sampler(args, st, stop))
    gate = asyncio.Semaphore(args.setup_concurrency)
    go = asyncio.Event()
    pending = [args.tunnels]

    rss_all_open = [0]

    def ready():
        pending[0] -= 1
        if pending[0] == 0:
            rss_all_open[0] = read_rss(args.pid)
            go.set()

    per = args.requests // args.tunnels
    extra = args.requests - per * args.tunnels
    tasks = [asyncio.create_task(tunnel_worker(args, st, i, ports[i % len(ports)],
                                               per + (1 if i < extra else 0), gate, ready, go))
             for i in range(args.tunnels)]
    loris, noread, faults = [], [], []
    hostile = [asyncio.create_task(loris_worker(args, ports[0], loris)) for _ in range(args.loris)]
    hostile += [asyncio.create_task(noread_worker(args, ports[i % len(ports)], args.noread_hold, noread))
                for i in range(args.noread)]
    for i in range(args.faults):
        if args.reset_hs:
            hostile.append(asyncio.create_task(fault_worker(args, "127.0.0.1", args.reset_hs, "reset_hs", faults)))
        if args.reset_body:
            hostile.append(asyncio.create_task(fault_worker(args, "127.0.0.1", args.reset_body, "reset_body", faults)))
        hostile.append(asyncio.create_task(fault_worker(args, "nx-%d.invalid" % i, 443, "dns", faults)))
    await asyncio.gather(*tasks)
    t_load = time.monotonic() - t0
    await asyncio.gather(*hostile)
    stop.set()
    await samp

    def tally(items):
        out = {}
        for x in items:
            out[x] = out.get(x, 0) + 1
        return out

    peak = max(st.rss_samples) if st.rss_samples else (0, 0)
    result = {
        "tunnels": args.tunnels, "tunnels_ok": st.tunnels_ok, "tunnels_failed": st.tunnels_failed,
        "peak_open_tunnels": st.peak_open,
        "requests": args.requests, "requests_ok": st.requests_ok, "requests_failed": st.requests_failed,
        "bytes": st.bytes, "load_seconds": round(t_load, 2),
        "requests_per_s": round(st.requests_ok / t_load, 1) if t_load > 0 else 0,
        "per_port_tunnels": {str(k): v for k, v in sorted(st.per_port.items())},
        "errors": st.errors,
        "loris": loris, "noread": tally(noread), "faults": tally(faults),
        "rss_kb_first": st.rss_samples[0][0] if st.rss_samples else 0,
        "rss_kb_all_tunnels_open": rss_all_open[0],
        "rss_kb_peak": peak[0], "open_tunnels_at_peak_sample": peak[1],
        "fd_peak": max(st.fd_samples) if st.fd_samples else 0,
        "seconds": round(time.monotonic() - t0, 2),
    }
    print(json.dumps(result), flush=True)


async def capture_run(proxy, ports, per_port, concurrency):
    """CONNECTs to every port (per_port times each), printing "OK PORT" the
    moment the proxy answers 200: by then it has stored that capture."""
    gate = asyncio.Semaphore(concurrency)

    async def one(port):
        async with gate:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", proxy)
                writer.write(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (port, port))
                lines = await asyncio.wait_for(read_head(reader), 30)
                if " 200 " in lines[0]:
                    print("OK", port, flush=True)
                writer.close()
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError):
                print("FAILED", port, flush=True)

    await asyncio.gather(*(one(p) for p in ports for _ in range(per_port)))


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "capture":
        # soak_load.py capture PROXY P1,P2,... PER_PORT CONCURRENCY
        asyncio.run(capture_run(int(sys.argv[2]), [int(p) for p in sys.argv[3].split(",")],
                                int(sys.argv[4]), int(sys.argv[5])))
        return
    if len(sys.argv) >= 2 and sys.argv[1] == "serve":
        asyncio.run(serve(sys.argv[2], int(sys.argv[3])))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["load"])
    ap.add_argument("--proxy", type=int, required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--ports", required=True)
    ap.add_argument("--tunnels", type=int, default=1000)
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--setup-concurrency", type=int, default=64)
    ap.add_argument("--loris", type=int, default=0)
    ap.add_argument("--loris-seconds", type=float, default=30)
    ap.add_argument("--noread", type=int, default=0)
    ap.add_argument("--noread-hold", type=float, default=5)
    ap.add_argument("--faults", type=int, default=0)
    ap.add_argument("--reset-hs", type=int, default=0)
    ap.add_argument("--reset-body", type=int, default=0)
    ap.add_argument("--pid", type=int, default=0)
    args = ap.parse_args()
    asyncio.run(load(args))


if __name__ == "__main__":
    main()
