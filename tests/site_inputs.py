"""What people paste as an Atlassian site, and values that must never reach the network.
`{name}` stands for the site's name (the part before .atlassian.net)."""

from __future__ import annotations

PASTED_FORMS = [
    "{name}",
    "{name}.atlassian.net",
    "{NAME}.Atlassian.NET",
    "{name}.atlassian.net/",
    "{name}.atlassian.net.",
    "  {name}.atlassian.net  ",
    "https://{name}.atlassian.net",
    "http://{name}.atlassian.net",
    "https://{name}.atlassian.net/jira/software/projects/OPS/boards/1",
    "https://{name}.atlassian.net/wiki/spaces/ENG/overview?homepageId=1#top",
]

HOSTILE_SITES = [
    "127.0.0.1",
    "169.254.169.254",
    "https://169.254.169.254/latest/meta-data",
    "10.0.0.1.",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "[::1]",
    "https://[::ffff:127.0.0.1]/",
    "acme.atlassian.net:8443",
    "https://acme.atlassian.net:443/",
    "localhost:8200",
    "user@acme.atlassian.net",
    "https://user:secret@acme.atlassian.net/",
    "https://acme.atlassian.net@evil.example.com/",
    "acme.atlassian.net\\@evil.example.com",
    "evil.example.com",
    "atlassian.net.evil.example.com",
    "acme.atlassian.net.evil.example.com",
    "acmeatlassian.net",
    "evil-atlassian.net",
    "a.b.atlassian.net",
    "acme..atlassian.net",
    "-acme.atlassian.net",
    "acme%2eatlassian.net",
    "acme.atlassian.net%00",
    "//evil.example.com",
    "file:///etc/passwd",
    "ftp://acme.atlassian.net",
    "javascript:alert(1)",
    "https://acme.atlassian.net /x",
    "\u0430cme.atlassian.net",  # a Cyrillic a
]
