"""Email through an SMTP server (WARROOM_SMTP_URL), with a stable Message-ID per notification."""

from __future__ import annotations

import hashlib
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from urllib.parse import unquote, urlsplit

from warroom.notify.channels.base import Delivery, Message
from warroom.notify.rules import Outcome, email_message_id

TIMEOUT_SECONDS = 15


def _id_part(key: str) -> str:
    """The key itself when it fits a Message-ID, else a stable digest of it."""
    if len(key) <= 64 and all(c.isascii() and (c.isalnum() or c in "-_") for c in key):
        return key
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class EmailChannel:
    """Sends mail via ``smtp://[user:pass@]host[:port]`` (STARTTLS if offered) or ``smtps://``."""

    def __init__(
        self, smtp_url: str | None, sender: str, domain: str, *, spool_dir: Path | None = None
    ) -> None:
        self.smtp_url = smtp_url
        self.sender = sender
        self.domain = domain
        self.spool_dir = spool_dir

    def send(self, to: str, message: Message) -> Delivery:
        mail = self._compose(to, message)
        if not self.smtp_url:
            if self.spool_dir is None:
                return Delivery(Outcome.FAILED, "no SMTP server configured (set WARROOM_SMTP_URL)")
            path = self._spool(mail, message.key)
            return Delivery(Outcome.DELIVERED, f"no SMTP server configured: written to {path}")
        try:
            self._submit(mail)
        except smtplib.SMTPRecipientsRefused as error:
            # A 5xx to RCPT TO is about this address (no such mailbox); a 4xx is "not now".
            codes = [code for code, _ in error.recipients.values()]
            permanent = bool(codes) and all(500 <= code < 600 for code in codes)
            detail = f"the SMTP server refused {to}: {error.recipients}"
            if not permanent:
                return Delivery(Outcome.RETRY, detail)
            return Delivery(Outcome.FAILED, detail, bounced=True)
        except smtplib.SMTPResponseException as error:
            permanent = 500 <= error.smtp_code < 600
            outcome = Outcome.FAILED if permanent else Outcome.RETRY
            return Delivery(outcome, f"SMTP {error.smtp_code}: {error.smtp_error!r}")
        except (OSError, smtplib.SMTPException) as error:
            return Delivery(Outcome.RETRY, f"SMTP server unreachable: {error}")
        return Delivery(Outcome.DELIVERED, f"accepted by the SMTP server for {to}")

    def _spool(self, mail: EmailMessage, key: str) -> Path:
        assert self.spool_dir is not None
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        path = self.spool_dir / f"{key}.eml"
        path.write_bytes(bytes(mail))
        return path

    def _compose(self, to: str, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = to
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        # Same Message-ID on every retry: mail systems drop the duplicates.
        mail["Message-ID"] = email_message_id(_id_part(message.key), self.domain)
        mail["X-Warroom-Key"] = message.key
        unsubscribe = message.data.get("unsubscribe")
        if unsubscribe:
            # RFC 8058: mail clients offer one-click unsubscribe with a POST.
            mail["List-Unsubscribe"] = f"<{unsubscribe}>"
            mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        # Plain ASCII goes as is, so the ack link is never wrapped mid-URL by
        # quoted-printable soft line breaks in terminals and simple readers.
        mail.set_content(message.text, cte="7bit" if message.text.isascii() else None)
        return mail

    def _submit(self, mail: EmailMessage) -> None:
        parts = urlsplit(self.smtp_url or "")
        host = parts.hostname or "localhost"
        if parts.scheme == "smtps":
            context = ssl.create_default_context()
            with smtplib.SMTP_SSL(
                host, parts.port or 465, timeout=TIMEOUT_SECONDS, context=context
            ) as smtp:
                self._login_and_send(smtp, parts.username, parts.password, mail)
            return
        with smtplib.SMTP(
            host, parts.port or 25, timeout=TIMEOUT_SECONDS, local_hostname=socket.gethostname()
        ) as smtp:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            self._login_and_send(smtp, parts.username, parts.password, mail)

    @staticmethod
    def _login_and_send(
        smtp: smtplib.SMTP, user: str | None, password: str | None, mail: EmailMessage
    ) -> None:
        if user:
            smtp.login(unquote(user), unquote(password or ""))
        smtp.send_message(mail)
