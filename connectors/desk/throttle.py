"""Log-in throttling: 10 failed log-ins for one user or from one address lock both out.

    throttle = LoginThrottle()
    if throttle.locked(username, address): ...   # answer 429 without checking the password
    throttle.failed(username, address)           # after a wrong password

Counting is done by the ``limits`` library, in moving windows: in memory for
one web app, in Redis (``desk.redis_url``) for several behind one load
balancer, so the limit does not multiply with the processes. After
``FAILURES`` within its window the user name or address is locked for
``LOCK_MINUTES``, right password or not, so guessing stops there.
"""

from __future__ import annotations

from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

MAX_FAILURES = 10
WINDOW_MINUTES = 15
LOCK_MINUTES = 15

FAILURES = RateLimitItemPerMinute(MAX_FAILURES, WINDOW_MINUTES)
# One "hit" is the lock itself; it ages out after LOCK_MINUTES.
LOCK = RateLimitItemPerMinute(1, LOCK_MINUTES)

LOCKED_MESSAGE = (
    "Too many wrong log-ins for this user name or from this network address. "
    f"For your safety, log-in is paused for {LOCK_MINUTES} minutes: wait, then try again. "
    "If you forgot your password, ask an administrator to reset it."
)


class LoginThrottle:
    def __init__(self, storage_uri: str = "") -> None:
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri or "memory://"))

    @staticmethod
    def _keys(username: str, address: str) -> list[tuple[str, str]]:
        return [("user", username.strip().casefold()), ("address", address)]

    def locked(self, username: str, address: str) -> bool:
        return any(
            not self.limiter.test(LOCK, "login-lock", kind, key)
            for kind, key in self._keys(username, address)
        )

    def failed(self, username: str, address: str) -> None:
        for kind, key in self._keys(username, address):
            self.limiter.hit(FAILURES, "login-failures", kind, key)
            if not self.limiter.test(FAILURES, "login-failures", kind, key):
                self.limiter.hit(LOCK, "login-lock", kind, key)
