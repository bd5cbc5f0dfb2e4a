"""The behaviours the conversation suite must cover (issue 11), by id.

Each scenario lists the ids it covers in ``covers:``; ``test_the_suite_is_broad``
fails when a behaviour has no scenario or a scenario names an unknown id.
"""
from __future__ import annotations

from typing import Dict

BEHAVIOURS: Dict[str, str] = {
    # order selection after a phone number lists several orders
    "select_button": "pick an order by clicking its button",
    "select_position": "pick by position: 头一个, 第2个, 最下面那个 (either script)",
    "select_type": "pick by type: 点外卖的, 网约车那个",
    "select_detail": "pick by merchant, dish, item or place",
    "select_time": "pick by time: 昨天的, 最近那次",
    "select_english": "pick in English",
    "buttons_recognisable": "buttons show merchant/route, item, amount, time",
    # numbers from any message
    "number_first_message": "a bare order or phone number as the first message",
    "number_in_sentence": "a number inside a sentence that names the problem",
    "number_formats": "+86, dashes, spaces, full-width digits",
    "number_not_reasked": "a number given once is never asked for again",
    "ack_during_check": "好的/谢谢/明白了 after a number was not found: no failed attempt, no hand-over; the next wrong number still counts",
    # the second factor before acting for an anonymous customer (issue 12)
    "second_factor": "refund/cancel/address/invoice/claim: last four phone digits or surname first; never for signed-in customers",
    # the answer to the bot's own question wins
    "offer_accept": "accepting the offer just made: the bot does it",
    "offer_decline": "declining: nothing done, anything else? (no fallback, no hand-over)",
    # rating
    "rating_digit": "a bare digit 5",
    "rating_words": "5分, 五星, 满意/不满意",
    "rating_click": "clicking a rating button",
    "rating_only_when_asked": "a number is a rating only after the rating question",
    "rating_low_handoff": "1-2 or 没解决: apology and a person at P1",
    "ack_not_goodbye": "a plain acknowledgement after a solution still gets the rating question",
    # queue
    "queue_leave": "不用了 in the queue closes the ticket, the bot takes over, no new ticket",
    "queue_position_sentence": "the place in line is said one way (排在第 N 位), never 前面还有 N 位 beside it",
    # script
    "script_stays": "a Traditional conversation stays Traditional",
    "script_neutral": "numbers, e-mail, emoji keep the conversation's script",
    "script_switch": "writing Simplified switches back",
    "script_all_parts": "every part of a reply converted: type words, tracking, buttons",
    # facts
    "eta_consistent": "one ETA per reply, the same in the next turn, never 0 or negative",
    "order_state": "cancelled, completed or unpaid orders described as such first",
    "offer_then_do": "what the bot offers it also does",
    # safety
    "safety_injury": "injury: 120 and first aid as well as 110",
    "safety_door": "threat at the door: stay in, lock, do not open, 110",
    "safety_trip": "on a trip: share the trip, public place",
    "safety_followup": "while waiting, a follow-up gets the instructions again",
    "safety_no_identity": "safety never waits for an identity check",
    "not_safety": "no-show driver or a service complaint is not a safety case",
    # anger
    "anger_second": "a second angry message: apology, a person at P1",
    "anger_insult": "insults or all-caps fury",
    "anger_request_kept": "the refund or cancellation the angry customer asked for is handled",
    # unclear input
    "unclear_emoji": "a greeting emoji is a greeting, a crying one gets empathy",
    "unclear_third": "the third unclear message in a row offers a person",
    "bad_input": "bytes, markup, control codes or a huge message get a polite reply, never silence or a guess",
    "foreign_language": "English or Japanese gets a polite Chinese answer and a way forward",
    "empty_first": "an empty first message gets the greeting",
    # more than one problem
    "two_problems": "the second problem is handled without a new identity check",
    # the ordinary flows, end to end
    "flow_ride": "ride-hailing: late/no-show, cancel/reassign, fare dispute, duplicate charge",
    "flow_food": "food: late, wrong/spilled/missing, refund dispute, rider attitude",
    "flow_parcel": "parcel: stuck, lost, damaged, wrong address, fee dispute",
    "socketio": "the same conversations over socket.io",
    "signed_in": "order flows as a signed-in app customer: no identity question, only their own orders",
}
