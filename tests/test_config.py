"""handout.toml: each setting declared once, and everything about it made from that."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from conftest import REPO, write

from generator.config import Config, MailSettings, load_config, number, read_section, setting, settings_table
from generator.errors import HandoutError
from generator.mail.smtp import smtp_settings


def test_readme_table_is_the_declarations():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = re.search(r"^\| Setting \| Default \|.*?(?=\n\n)", readme, re.S | re.M)
    assert table, "README.md has no table of settings"
    assert table.group() == settings_table(), (
        "README.md's table of settings differs from generator/config.py; put this one in its place:\n"
        + settings_table())


def test_every_setting_in_the_file_reaches_the_stages(tmp_path):
    write(tmp_path / "handout.toml", """
        [check]
        max_size_mb = 2
        ad_phrases = ["buy now"]
        [limits]
        nesting = 5
        [mail]
        from = "Clinic <news@example.org>"
        smtp_port = 2525
        rate_per_minute = 30
        recipients = "people.csv"
    """)
    config = load_config(tmp_path)
    assert (config.check.max_size_mb, config.check.min_dpi, config.check.ad_phrases) == (2.0, 150.0, ("buy now",))
    assert (config.limits.nesting, config.limits.article_mb) == (5, 5.0)
    assert str(config.mail.recipients) == "people.csv"
    settings = smtp_settings(config.mail, environ={"HANDOUT_SMTP_PORT": "465"})
    assert (settings.sender, settings.port, settings.rate, settings.security) == (
        "Clinic <news@example.org>", 465, 30.0, "starttls")
    assert smtp_settings(MailSettings(), environ={}).rate == MailSettings.rate_per_minute


def test_no_file_is_every_default(tmp_path):
    assert load_config(tmp_path) == Config()


def test_every_wrong_value_is_named_at_once(tmp_path):
    # A true port and a number too large to be a rate were taken as they were.
    write(tmp_path / "handout.toml", """
        [mail]
        smtp_port = true
        rate_per_minute = 1e300
        smtp_security = "ssl"
        [limits]
        nesting = 1
        [defaults]
        paper = "a5"
        cover = "yes"
    """)
    with pytest.raises(HandoutError) as raised:
        load_config(tmp_path)
    message = raised.value.problem
    for problem in ("mail.smtp_port must be a whole number from 1 to 65535",
                    "mail.rate_per_minute must be a positive number up to 100000",
                    "mail.smtp_security must be starttls, tls or none",
                    "limits.nesting must be a whole number from 2 to 100",
                    "defaults.paper 'a5' is not one of: a4, letter",
                    "defaults.cover must be true or false"):
        assert problem in message


def test_unknown_keys_suggest_the_closest_known_one(tmp_path):
    write(tmp_path / "handout.toml", '[mail]\nsmtp_hots = "x"\nform = "a@b.org"\n[limit]\n')
    warnings = [d.message for d in load_config(tmp_path).diagnostics]
    assert warnings == ["unknown key 'mail.smtp_hots' (did you mean 'mail.smtp_host'?)",
                        "unknown key 'mail.form' (did you mean 'mail.from'?)",
                        "unknown key 'limit' (did you mean 'limits'?)"]



def test_a_new_setting_is_one_line(tmp_path):
    @dataclass(frozen=True)
    class Check:
        max_grade: float = setting(number(30), 12.0, "hardest reading grade before a warning")

    warnings, errors = [], []
    assert read_section("check", Check, {}, tmp_path, warnings, errors) == Check(12.0)
    assert read_section("check", Check, {"max_grade": 8}, tmp_path, warnings, errors).max_grade == 8.0
    read_section("check", Check, {"max_grade": 99, "max_grad": 8}, tmp_path, warnings, errors)
    assert errors == ["check.max_grade must be a positive number up to 30"]
    assert [w.message for w in warnings] == ["unknown key 'check.max_grad' (did you mean 'check.max_grade'?)"]
    assert settings_table({"check": Check}).splitlines()[2] == (
        "| `check.max_grade` | 12 | a positive number up to 30 | hardest reading grade before a warning |")
