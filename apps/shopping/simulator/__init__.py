"""Offline Alipay sandbox simulator (API.md §2.6), mounted at `/sandbox/alipay/` while DEBUG.

It owns two generated RSA key pairs (the app's and its own "Alipay" pair, under
`var/alipay-simulator/`, never in the repository) and is refused when DEBUG is off.
"""
