import asyncio

from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ActionAskOrderId, ValidateIdentityForm

from .conftest import make_tracker, run, slot_events


def validate(text, entities=None, slots=None):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text, entities=entities, slots=slots, active_loop="identity_form")
    result = ValidateIdentityForm().validate_order_id(text, dispatcher, tracker, {})
    return [m["response"] for m in dispatcher.messages], result, dispatcher


def test_valid_order_number_verifies(svc):
    responses, result, dispatcher = validate("订单号 2023112215300012345")
    assert responses == ["utter_identity_verified"]
    assert dispatcher.messages[0]["order_masked"] == "…2345"
    assert result["verified"] is True and result["order_id"] == "2023112215300012345"
    assert result["order_type"] == "food" and result["phone_number"] == "13812345678"


def test_entity_value_is_normalised(svc):
    _, result, _ = validate("ea123456785cn", entities=[{"entity": "order_id", "value": "ea123456785cn"}])
    assert result["order_id"] == "EA123456785CN"


def test_five_digit_order_number_reasks_politely(svc):
    responses, result, dispatcher = validate("12345")
    assert responses == ["utter_identity_too_short"]
    assert dispatcher.messages[0]["digits"] == 5
    assert result == {"order_id": None, "identity_attempts": 1, "identity_reask": True}


def test_letters_in_phone(svc):
    responses, result, _ = validate("138abc45678")
    assert responses == ["utter_identity_phone_letters"] and result["order_id"] is None


def test_unknown_order(svc):
    responses, _, _ = validate("2023112299999999999")
    assert responses == ["utter_identity_order_not_found"]


def test_order_of_another_phone(svc):
    responses, result, dispatcher = validate("R20231121009876", slots={"phone_number": "13812345678"})
    assert responses == ["utter_identity_order_other_phone"]
    assert dispatcher.messages[0]["phone_masked"] == "138****5678"
    assert result["order_id"] is None


def test_second_failure_hands_over(svc):
    responses, result, _ = validate("12345", slots={"identity_attempts": 1})
    assert responses == ["utter_identity_failed_handoff"]
    assert result["requested_slot"] is None and result["verified"] is False
    assert result["handoff_reason"] == "identity_failed" and result["handoff_summary"]


def test_phone_with_several_orders_offers_buttons(svc):
    responses, result, dispatcher = validate("138-1234-5678")
    assert responses == ["utter_identity_phone_found"] and dispatcher.messages[0]["count"] == 3
    assert result["order_id"] is None and result["phone_number"] == "13812345678"
    assert len(result["candidate_orders"]) == 3
    tracker = make_tracker(slots={"candidate_orders": result["candidate_orders"]})
    ask, events, ask_dispatcher = run(ActionAskOrderId(), tracker)
    assert ask == ["utter_ask_pick_order"]
    buttons = ask_dispatcher.messages[0]["buttons"]
    assert len(buttons) == 3 and all(b["payload"].startswith('/inform{"order_id":') for b in buttons)
    assert "…2345" in " ".join(b["title"] for b in buttons)


def test_phone_and_order_type_picks_the_one_order(svc):
    responses, result, _ = validate("13812345678", slots={"order_type": "parcel"})
    assert responses == ["utter_identity_verified"] and result["order_id"] == "EA123456785CN"


def test_phone_without_orders(svc):
    responses, result, _ = validate("13600000000")
    assert responses == ["utter_identity_phone_no_orders"] and result["identity_attempts"] == 1


def test_ask_action(svc):
    assert run(ActionAskOrderId(), make_tracker())[0] == ["utter_ask_order_id"]
    responses, events, _ = run(ActionAskOrderId(), make_tracker(slots={"identity_reask": True}))
    assert responses == [] and slot_events(events) == {"identity_reask": False}


def test_full_validation_action_run(svc):
    """Through FormValidationAction.run, as the form calls it."""
    tracker = make_tracker("R20231122001234", active_loop="identity_form")
    tracker.events.append({"event": "slot", "name": "order_id", "value": "R20231122001234"})
    dispatcher = CollectingDispatcher()
    domain = {"forms": {"identity_form": {"required_slots": ["order_id"]}}, "slots": {}}
    events = asyncio.run(ValidateIdentityForm().run(dispatcher, tracker, domain))
    slots = slot_events(events)
    assert slots["verified"] is True and slots["order_id"] == "R20231122001234"
