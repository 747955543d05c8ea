#!/usr/bin/env python3
"""A TLS client that splits its ClientHello over records, through the proxy.

usage: split_hello_client.py PROXY_PORT TARGET_HOST:PORT CA_PEM FRAG [PAD]

CONNECT to the target through the proxy on 127.0.0.1, then a TLS handshake
with the proxy's minted leaf (verified against CA_PEM) whose ClientHello is
sent in records of at most FRAG bytes; PAD > 0 pads the hello (an extra
ALPN list) to make it larger. Then one GET /; prints the status line and
exits 0, or prints why and exits 1. Uses python3's ssl module through a
memory BIO (ssl.SSLObject), so the hello bytes can be re-framed.
"""
import socket
import ssl
import sys


def reframe(data, frag):
    """Re-splits the first handshake record's payload into records of frag."""
    assert data[0] == 22, "not a handshake record"
    n = int.from_bytes(data[3:5], "big")
    payload, rest = data[5:5 + n], data[5 + n:]
    out = b""
    for i in range(0, len(payload), frag):
        chunk = payload[i:i + frag]
        out += data[0:3] + len(chunk).to_bytes(2, "big") + chunk
    return out + rest


def main():
    pport, target, ca, frag = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    pad = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    s = socket.create_connection(("127.0.0.1", int(pport)), timeout=15)
    s.sendall(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target.encode(), target.encode()))
    head = b""
    while b"\r\n\r\n" not in head:
        got = s.recv(1)
        if not got:
            print("proxy closed before answering CONNECT")
            return 1
        head += got
    if not head.startswith(b"HTTP/1.1 200"):
        print("CONNECT refused:", head.split(b"\r\n")[0].decode())
        return 1
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    ctx.check_hostname = False
    if pad > 0:
        ctx.set_alpn_protocols(["x" * 200 + "%03d" % i for i in range(pad)] + ["http/1.1"])
    inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, outg, server_hostname=None)
    first = True
    while True:
        try:
            obj.do_handshake()
            done = True
        except ssl.SSLWantReadError:
            done = False
        except ssl.SSLError as e:
            print("handshake failed:", e)
            return 1
        data = outg.read()
        if data:
            if first:
                data = reframe(data, frag)
                print("ClientHello sent in %d-byte records" % frag, file=sys.stderr)
                first = False
            s.sendall(data)
        if done:
            break
        got = s.recv(65536)
        if not got:
            print("connection closed during the handshake")
            return 1
        inc.write(got)
    obj.write(b"GET /hi.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    s.sendall(outg.read())
    resp = b""
    while b"\r\n" not in resp:
        try:
            resp += obj.read(4096)
        except ssl.SSLWantReadError:
            got = s.recv(65536)
            if not got:
                break
            inc.write(got)
    print(resp.split(b"\r\n")[0].decode() if resp else "no response")
    return 0 if resp.startswith(b"HTTP/1.") else 1


if __name__ == "__main__":
    sys.exit(main())
