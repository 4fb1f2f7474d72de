"""Security checks, one module per OWASP API Security Top 10 (2023) risk that applies here.

Each check runs against every API style that serves the operation (the contract suite's `api`,
`full_api` and `every_api` fixtures), so a style that forgets a rule fails on its own.

- API1 broken object level authorization, API5 broken function level authorization:
  `test_object_authorization.py`
- API2 broken authentication, API4 unrestricted resource consumption, API6 unrestricted access
  to sensitive business flows (login and order placement throttled): `test_resource_limits.py`
- API3 broken object property level authorization (mass assignment, data exposure):
  `test_property_authorization.py`
- API8 security misconfiguration: `test_csrf.py`, `test_configuration.py` (CSP, ALLOWED_HOSTS),
  `test_csp_browser.py` (the policy in a real browser)

Not applicable: API7 (SSRF: no operation fetches a URL), API9 (inventory: one version, every
style documented), API10 (unsafe consumption: no third-party API is called).
"""
