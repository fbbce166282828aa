"""A real SMTP server on loopback for the email tests (aiosmtpd).

    python3 smtp_sink.py --port 0 --dir DIR [--auth USER:PASSWORD]
        [--mail TEXT=CODE] [--rcpt TEXT=CODE] [--data TEXT=CODE]

Listens on 127.0.0.1 (port 0 picks a free one) and prints `listening 127.0.0.1:PORT` once it
accepts connections. Each accepted message becomes two files in DIR: `NNNN.json` (envelope:
mail_from, rcpt_tos, the signed-in login) and then `NNNN.eml` (the raw data), both written
before the server answers 250.

--mail/--rcpt/--data make the server refuse: a MAIL FROM address, a RCPT TO address or the
message data that contains TEXT is answered with CODE (e.g. `--rcpt bounce=550`). --auth
requires a sign-in (AUTH PLAIN or LOGIN, allowed without TLS) with exactly these credentials.
No TLS is offered, so STARTTLS is refused and an implicit-TLS client fails its handshake.
"""

import argparse
import asyncio
import json
import logging
import os
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

# Replies with the enhanced status codes real servers send.
REPLIES = {
    421: "421 4.3.2 Service not available, closing channel",
    450: "450 4.2.1 Mailbox temporarily unavailable",
    451: "451 4.3.0 Mailbox busy, try again later",
    452: "452 4.3.1 Insufficient system storage",
    550: "550 5.1.1 Mailbox unavailable",
    551: "551 5.1.6 User not local",
    552: "552 5.3.4 Message too big",
    553: "553 5.1.3 Mailbox name not allowed",
    554: "554 5.7.1 Relay access denied",
}


def rule(value):
    text, _, code = value.rpartition("=")
    if not text or not code.isdigit():
        raise argparse.ArgumentTypeError(f"expected TEXT=CODE, got {value!r}")
    return text, int(code)


def reply_for(rules, subject):
    for text, code in rules:
        if text in subject:
            return REPLIES.get(code, f"{code} Refused by the test sink")
    return None


class Sink:
    def __init__(self, directory, mail_rules, rcpt_rules, data_rules):
        self.directory = directory
        self.mail_rules = mail_rules
        self.rcpt_rules = rcpt_rules
        self.data_rules = data_rules
        self.count = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        refusal = reply_for(self.mail_rules, address)
        if refusal:
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refusal = reply_for(self.rcpt_rules, address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or b""
        refusal = reply_for(self.data_rules, data.decode("utf-8", "replace"))
        if refusal:
            return refusal
        self.count += 1
        stem = os.path.join(self.directory, f"{self.count:04}")
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "mail_options": envelope.mail_options,
            "login": login.decode("utf-8", "replace") if login else None,
        }
        write(stem + ".json", json.dumps(meta, indent=2).encode())
        # The .eml last: its presence means the message is complete.
        write(stem + ".eml", data)
        return f"250 2.0.0 OK: queued as {self.count:04}"


def write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def authenticator(credentials):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and (auth_data.login, auth_data.password) == credentials
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return check


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--auth", help="USER:PASSWORD a client must sign in with")
    parser.add_argument("--mail", type=rule, action="append", default=[])
    parser.add_argument("--rcpt", type=rule, action="append", default=[])
    parser.add_argument("--data", type=rule, action="append", default=[])
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    # AUTH without TLS is the point here, not a mistake worth a warning per test.
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.ERROR)

    handler = Sink(args.dir, args.mail, args.rcpt, args.data)
    options = {"hostname": "sink.roost.test", "enable_SMTPUTF8": True}
    if args.auth:
        user, _, password = args.auth.partition(":")
        options.update(
            auth_required=True,
            auth_require_tls=False,
            authenticator=authenticator((user.encode(), password.encode())),
        )

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(
            lambda: SMTP(handler, loop=loop, **options), host="127.0.0.1", port=args.port
        )
    )
    port = server.sockets[0].getsockname()[1]
    print(f"listening 127.0.0.1:{port}", flush=True)
    try:
        loop.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())


if __name__ == "__main__":
    sys.exit(main())
