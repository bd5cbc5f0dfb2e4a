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
    # opaque references to the offered list, never the order number; titles a customer recognises
    assert [b["payload"] for b in buttons] == ['/inform{"order_ref":"%d"}' % i for i in (1, 2, 3)]
    assert not any(o in b["payload"] or o in b["title"] for o in result["candidate_orders"] for b in buttons)
    assert any("老街牛肉面" in b["title"] and "38.50" in b["title"] for b in buttons)


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


LIU_ORDERS = ["R20231121009876", "2023112112000067890", "2023112018300099999", "EB000000014CN"]


def test_typed_choice_among_the_offered_orders(svc):
    offered = {"candidate_orders": LIU_ORDERS, "phone_number": "13900001111"}
    responses, result, _ = validate("第2个", slots=offered)
    assert responses == ["utter_identity_verified"] and result["order_id"] == "2023112112000067890"
    responses, result, _ = validate("最下面那個", slots=offered)
    assert result["order_id"] == "EB000000014CN"
    responses, result, _ = validate("点外卖的", slots=offered)
    assert responses == ["utter_identity_pick_narrowed"] and result["candidate_orders"] == LIU_ORDERS[1:3]
    responses, result, _ = validate("嗯那个", slots=offered)
    assert responses == ["utter_identity_pick_again"] and "identity_attempts" not in result, "not a failed attempt"


def test_button_reference_maps_back_only_to_the_offered_list(svc):
    offered = {"candidate_orders": LIU_ORDERS, "phone_number": "13900001111"}
    ref = [{"entity": "order_ref", "value": "4"}]
    responses, result, _ = validate('/inform{"order_ref":"4"}', entities=ref, slots=offered)
    assert result["order_id"] == "EB000000014CN"
    responses, result, _ = validate('/inform{"order_ref":"9"}', entities=[{"entity": "order_ref", "value": "9"}],
                                    slots=offered)
    assert result["order_id"] is None and responses == ["utter_identity_pick_again"]
    responses, result, _ = validate('/inform{"order_ref":"1"}', entities=[{"entity": "order_ref", "value": "1"}])
    assert result["order_id"] is None, "a reference with nothing offered identifies nobody"


def test_a_verified_conversation_is_bound_to_its_phone(svc):
    verified_chen = {"verified": True, "order_id": "2023112215300012345", "verified_phone": "13812345678",
                     "phone_number": "13812345678"}
    responses, result, _ = validate("R20231121009876", slots=verified_chen)
    assert responses == ["utter_identity_order_other_phone"] and result["order_id"] is None
    responses, result, _ = validate("13900001111", slots=verified_chen)
    assert responses == ["utter_identity_phone_other"] and result["order_id"] is None
    responses, result, _ = validate("EA123456785CN", slots=verified_chen)
    assert result["order_id"] == "EA123456785CN", "the same customer's other order is fine"
