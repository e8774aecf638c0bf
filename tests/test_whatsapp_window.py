"""WhatsApp's 24-hour rule: a mediator's reply after 24 hours goes as the approved
template (once), the desk is told why the reply is held, and it goes out as
text when the person writes again; against the loopback Twilio stand-in."""

from __future__ import annotations

from tests.conftest import run_in_rasa
from tests.fake_platforms import TWILIO_SID, TWILIO_TEMPLATE_SID, TWILIO_TOKEN, WHATSAPP_NUMBER

PERSON = "whatsapp:+393330024024"

CHECK = """
import asyncio, sys
from connectors.twilio import HandoffTwilioInput
from connectors.whatsapp_window import WindowClosed

api_url, sid, token, number, template, person = sys.argv[1:7]
now = [1_000_000.0]
channel = HandoffTwilioInput(sid, token, number, "", api_url, template)
channel.window.clock = lambda: now[0]
out = channel.get_output_channel()
bare = HandoffTwilioInput(sid, token, number, "", api_url, "").get_output_channel()

def reply(text):
    return {"from": "mediator", "name": "amal", "text": text}

async def refused(output, text):
    try:
        await output.send_custom_json(person, reply(text))
    except WindowClosed as exc:
        return str(exc)
    raise AssertionError("sent outside the window: " + text)

async def main():
    # Never heard from (or heard before a restart): the window counts as closed.
    assert "HELPDESK_TWILIO_TEMPLATE_SID" in await refused(bare, "nessun modello")
    channel.window.heard(person)
    now[0] += 23 * 3600
    await out.send_custom_json(person, reply("entro 24 ore"))
    now[0] += 2 * 3600
    # The desk retries: the template goes once, the reason each time.
    for _ in range(3):
        assert "template was sent" in await refused(out, "dopo 24 ore")
    channel.window.heard(person)
    await out.send_custom_json(person, reply("dopo 24 ore"))
    # An SMS number has no such rule.
    await out.send_custom_json("sms:+393330024025", reply("via sms"))
    await channel.api._session.close()

asyncio.run(main())
print("ok")
"""


def test_a_reply_after_24_hours_goes_as_the_approved_template_once(platforms):
    args = (platforms.url, TWILIO_SID, TWILIO_TOKEN, WHATSAPP_NUMBER, TWILIO_TEMPLATE_SID, PERSON)
    run_in_rasa(CHECK, *args)
    sent = [c for c in platforms.calls("Messages", To=PERSON) if c.get("_ok")]
    assert [c.get("Body") or c.get("ContentSid") for c in sent] == [
        "👤 amal\nentro 24 ore",
        TWILIO_TEMPLATE_SID,
        "👤 amal\ndopo 24 ore",
    ]
    assert "Body" not in sent[1] and sent[1]["From"] == WHATSAPP_NUMBER
    assert [c["Body"] for c in platforms.calls("Messages", To="+393330024025")] == [
        "👤 amal\nvia sms"
    ]
