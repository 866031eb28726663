"""Writes the committed seed corpora in fuzz/corpus/<target>/: a few small, valid inputs per
target, so every fuzzer starts from the shapes the functions really receive.

Run from the repository root: python3 fuzz/seeds/make_seeds.py
(the envelope seeds need the `cryptography` package; without it they are skipped)."""

import base64
import hashlib
import hmac
import json
import os
import struct
import uuid

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus")
SECRET = b"fuzz-secret-jwt-token-with-at-least-32-characters"
ISSUER = "http://127.0.0.1:54321/auth/v1"
NOW = 1_700_000_000
OWNER = uuid.UUID("6f1c3c1e-3a53-4a0e-9a43-0e0a8f6a2b11")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def write(target: str, name: str, content) -> None:
    folder = os.path.join(ROOT, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(content, (dict, list)):
        content = json.dumps(content)
    if isinstance(content, str):
        content = content.encode()
    with open(os.path.join(folder, name), "wb") as out:
        out.write(content)


def hs256(claims: dict, header=None) -> str:
    header = header or {"alg": "HS256", "typ": "JWT"}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = hmac.new(SECRET, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def claims(**extra) -> dict:
    base = {
        "iss": ISSUER, "sub": str(OWNER), "aud": "authenticated", "exp": NOW + 3600,
        "iat": NOW - 10, "role": "authenticated", "email": "ada@example.com",
        "session_id": "0b7c7f36-7ad4-4b8e-8d31-1e8f5f1e3a22", "aal": "aal1",
        "is_anonymous": False, "app_metadata": {"provider": "email"},
    }
    base.update(extra)
    return base


def jwt_seeds() -> None:
    write("jwt_verify", "hs256-valid", hs256(claims()))
    write("jwt_verify", "hs256-bearer", "Bearer " + hs256(claims(is_anonymous=True, email="")))
    write("jwt_verify", "hs256-expired", hs256(claims(exp=NOW - 3600)))
    write("jwt_verify", "es256-unknown-kid",
          hs256(claims(), {"alg": "ES256", "typ": "JWT", "kid": "fuzz-es256"}))
    none_header = b64url(json.dumps({"alg": "none"}).encode())
    write("jwt_verify", "alg-none", f"{none_header}.{b64url(json.dumps(claims()).encode())}.")


def aad(header: str, row: str, field: str) -> bytes:
    def prefixed(part: bytes) -> bytes:
        return struct.pack(">I", len(part)) + part
    return (b"edge-crypto/aad/v1" + prefixed(header.encode()) + OWNER.bytes
            + prefixed(row.encode()) + prefixed(field.encode()))


def envelope_seeds() -> None:
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:
        print("cryptography missing: envelope seeds skipped")
        return
    keys = {"k1": bytes(range(32)), "k2": bytes(range(32, 64))}
    for key_id, plaintext in [("k2", b"sb_secret_0123456789abcdef"), ("k1", b"old key")]:
        header = f"enc:v1:{key_id}"
        nonce = bytes(12)
        sealed = AESGCM(keys[key_id]).encrypt(
            nonce, plaintext, aad(header, "connections/prod", "service_role_key"))
        write("envelope", f"sealed-{key_id}", f"{header}:{b64url(nonce + sealed)}")
    write("envelope", "ring", "v1;active=k1;k1=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")
    write("envelope", "short", "enc:v1:k2:AAAA")


def webhook_seeds() -> None:
    secret = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    body = json.dumps({"task_id": str(OWNER), "status": "done", "credits_used": 1})
    msg_id = "msg_2mN9qf3kL8xYz1"
    signature = base64.b64encode(
        hmac.new(secret, f"{msg_id}.{NOW}.{body}".encode(), hashlib.sha256).digest()).decode()
    write("webhook_signature", "signed", f"{msg_id}\n{NOW}\nv1,{signature}\n\n{body}")
    write("webhook_signature", "api-key", f"job-42-done\n\n\nfuzz-api-key-0123456789\n{body}")
    write("webhook_signature", "rotating", f"{msg_id}\n{NOW - 299}\nv1,AAAA v1,{signature}\n\n{body}")


def body_seeds() -> None:
    anon = hs256({"role": "anon", "iss": "supabase"})
    service = hs256({"role": "service_role", "iss": "supabase"})
    write("save_connection_body", "legacy-keys", {
        "name": "shop", "url": "https://abcd.supabase.co", "anon_key": anon,
        "service_role_key": service})
    write("save_connection_body", "new-keys", {
        "name": "prod-1", "url": "https://db.example.com:8443/", "anon_key": "sb_publishable_abc",
        "service_role_key": "sb_secret_xyz", "allow_writes": True})
    write("save_connection_body", "loopback", {
        "name": "local", "url": "http://127.0.0.1:54331", "anon_key": "sb_publishable_a",
        "service_role_key": "sb_secret_b", "allow_writes": False})

    write("tenant_proxy_path", "table", "shop/rest/v1/orders?select=*,items(*)&status=eq.paid")
    write("tenant_proxy_path", "rpc", "shop/rest/v1/rpc/total?limit=10")
    write("tenant_proxy_path", "climb", "shop/rest/v1/%2e%2e/auth/v1/admin/users")

    task = "6f1c1c43-2b0a-4d8e-9a51-7f1e0c7a9b10"
    write("process_webhook_body", "done", {
        "task_id": task, "status": "done", "mask_url": "https://masks.example.com/m.png",
        "labels": [{"label": "cat", "score": 0.97}], "metadata": {"model": "sam2", "ms": 812},
        "credits_used": 2})
    write("process_webhook_body", "error", {"task_id": task, "status": "error",
                                            "error": "CUDA out of memory"})
    write("process_webhook_body", "processing", {"task_id": task, "status": "processing"})

    profile = "6f1c1f2e-3b7a-4c55-9d7e-0a1b2c3d4e5f"
    write("create_invitation_body", "minimal", {"profile_id": profile})
    write("create_invitation_body", "full", {"profile_id": profile, "email": " Ada@Example.COM ",
                                             "expires_in_days": 30, "replace": True})
    write("create_invitation_body", "id", profile)

    token = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01234"
    write("accept_invitation_body", "accept", {"token": token, "password": "correct horse"})
    write("accept_invitation_body", "weak", {"token": token, "password": "Ada.Lovelace"})
    write("accept_invitation_body", "token", token)

    write("guest_signup_body", "empty", "")
    write("guest_signup_body", "full", {
        "landing_url": "https://app.example.com/?utm_source=news", "referrer":
        "https://www.google.com/search?q=x", "utm_source": "news", "utm_medium": "email",
        "utm_campaign": "launch", "utm_term": "seg", "utm_content": "hero",
        "screen_width": 1920, "screen_height": 1080, "touch_support": False,
        "app_platform": "pwa", "app_name": "Segments", "app_version": "1.4.2",
        "display_mode": "standalone", "install_source": "add_to_home",
        "timezone_guess": "America/Argentina/Buenos_Aires"})
    write("guest_signup_body", "referrer-port", {"referrer": "http://192.168.0.1:8080/x"})

    for name, ua in {
        "chrome-android": "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP1A.240505.005) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36",
        "safari-iphone": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "firefox-windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
        "googlebot": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "edge-mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87",
    }.items():
        write("guest_signup_user_agent", name, ua)


if __name__ == "__main__":
    jwt_seeds()
    envelope_seeds()
    webhook_seeds()
    body_seeds()
