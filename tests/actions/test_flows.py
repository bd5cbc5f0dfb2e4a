"""Every flow action against the seeded SQLite database."""
from actions.cancel import ActionCancelCheck, ActionCancelExecute, ActionReassignExecute
from actions.change_info import ActionChangeInfoCheck, ActionChangeInfoExecute
from actions.answers import ActionAnswer
from actions.closing import ActionAskRating, ActionGoodbyeInFlow, ActionRate, ActionRequestHuman, ActionStopFlow
from actions.complaints import ActionComplaintRecord
from actions.damage import ActionDamageCheck, ActionDamageClaim
from actions.delay import ActionDelayHandle
from actions.fallback import ActionFallback
from actions.fees import ActionFeeExplain
from actions.invoice import ActionInvoiceCheck, ActionInvoiceRecord
from actions.orders import ActionOrderStatus
from actions.payments import ActionPaymentCheck, ActionPaymentRefundExecute
from actions.refunds import ActionRefundCheck, ActionRefundExecute
from actions.safety import ActionSafety

from .conftest import followup, make_tracker, run, slot_events, user_event, verified

FOOD_LATE = "2023112215300012345"
RIDE_LATE = "R20231122001234"
PARCEL = "EA123456785CN"
FOOD_DONE = "2023112112000067890"
FOOD_BIG = "2023112018300099999"
FOOD_PAID_FAILED = "2023112209000054321"
RIDE_DUPLICATE = "R20231120004321"
RIDE_MISMATCH = "R20231121009876"
PARCEL_BROKEN = "EB000000014CN"
PARCEL_NEW = "EC000000028CN"
FOOD_PREPARING = "2023112210150011111"


def handed_over(events, reason):
    slots = slot_events(events)
    return followup(events) == "action_handoff" and slots["handoff_reason"] == reason and slots["handoff_summary"]


# -- status ---------------------------------------------------------------------
def test_status_food_delivering(svc):
    responses, events, d = run(ActionOrderStatus(), make_tracker(slots=verified(FOOD_LATE)))
    assert responses == ["utter_status_food_delivering", "utter_status_late_note", "utter_ask_resolved"]
    # the one ETA every reply of the conversation gives: 10 minutes plus the policy's buffer
    assert d.messages[0]["rider"] == "王师傅" and d.messages[0]["eta_minutes"] == 15
    assert slot_events(events) == {"pending": "resolved"}


def test_status_ride_and_parcel(svc):
    responses, _, d = run(ActionOrderStatus(), make_tracker(slots=verified(RIDE_LATE)))
    assert responses[0] == "utter_status_ride_on_the_way" and d.messages[0]["plate"] == "京A12345"
    responses, _, d = run(ActionOrderStatus(), make_tracker(slots=verified(PARCEL)))
    assert responses == ["utter_status_parcel_moving", "utter_ask_resolved"]
    assert d.messages[0]["last_place"] == "北京"


def test_unverified_order_is_never_touched(svc):
    responses, events, _ = run(ActionOrderStatus(), make_tracker(slots={"order_id": FOOD_LATE}))
    assert responses == ["utter_order_unavailable"]


# -- refunds --------------------------------------------------------------------
def test_refund_asks_then_refunds(svc):
    responses, events, d = run(ActionRefundCheck(), make_tracker(slots=verified(FOOD_LATE)))
    assert responses == ["utter_refund_offer"] and d.messages[0]["refund_amount"] == "38.50"
    assert slot_events(events) == {"pending": "refund"}
    assert svc.refunds_for_order(FOOD_LATE) == []  # nothing before the customer agrees
    responses, events, d = run(ActionRefundExecute(), make_tracker(intent="affirm", slots=verified(FOOD_LATE)))
    assert responses == ["utter_refund_done", "utter_ask_resolved"]
    assert svc.refunds_for_order(FOOD_LATE)[0].amount == 38.5
    assert d.messages[0]["arrival_days"] == "1-3"


def test_refund_in_progress_is_reported(svc):
    responses, _, d = run(ActionRefundCheck(), make_tracker(slots=verified(FOOD_DONE)))
    assert responses == ["utter_refund_in_progress", "utter_ask_resolved"]
    assert d.messages[0]["refund_id"] == "RF20231121SEED01"


def test_refund_not_eligible(svc):
    responses, events, _ = run(ActionRefundCheck(), make_tracker(slots=verified(RIDE_LATE)))
    assert responses == ["utter_refund_not_eligible_state", "utter_ask_resolved"]


def test_refund_over_limit_hands_over(svc):
    responses, events, _ = run(ActionRefundCheck(), make_tracker(slots=verified(FOOD_BIG)))
    assert responses == ["utter_over_limit_handoff"]
    assert handed_over(events, "over_limit")


# -- delay ----------------------------------------------------------------------
def test_food_delay_coupon_and_reassign_offer(svc):
    responses, events, d = run(ActionDelayHandle(), make_tracker(slots=verified(FOOD_LATE)))
    # the status line names the rider and gives the one ETA of the conversation
    assert responses == ["utter_delay_apology", "utter_status_food_delivering", "utter_delay_coupon",
                         "utter_delay_offer_reassign"]
    assert d.messages[2]["coupon"] == 10  # 45 minutes late
    assert slot_events(events) == {"pending": "reassign"}
    assert svc.records_for_order(FOOD_LATE, "coupon")[0].amount == 10


def test_ride_delay_waives_fare(svc):
    responses, _, _ = run(ActionDelayHandle(), make_tracker(slots=verified(RIDE_LATE)))
    assert "utter_delay_fare_waived" in responses and "utter_delay_coupon" not in responses


def test_delay_on_time(svc):
    responses, _, _ = run(ActionDelayHandle(), make_tracker(slots=verified(FOOD_PREPARING)))
    assert responses == ["utter_status_food_preparing", "utter_delay_within_promise", "utter_ask_resolved"]


# -- cancel / reassign -----------------------------------------------------------
def test_cancel_with_fee_then_execute(svc):
    responses, events, d = run(ActionCancelCheck(), make_tracker(slots=verified(FOOD_PREPARING)))
    assert responses == ["utter_cancel_confirm_fee"] and d.messages[0]["cancel_fee"] == "6.00"
    assert slot_events(events) == {"pending": "cancel"}
    responses, _, d = run(ActionCancelExecute(), make_tracker(intent="affirm", slots=verified(FOOD_PREPARING)))
    assert responses == ["utter_cancel_done", "utter_ask_resolved"] and d.messages[0]["refund_amount"] == "39.00"
    assert svc.find_order(FOOD_PREPARING).status == "cancelled"


def test_free_cancel_for_parcel_not_picked_up(svc):
    responses, _, _ = run(ActionCancelCheck(), make_tracker(slots=verified(PARCEL_NEW)))
    assert responses == ["utter_cancel_confirm_free"]


def test_cancel_not_possible_after_delivery(svc):
    responses, _, _ = run(ActionCancelCheck(), make_tracker(slots=verified(FOOD_DONE)))
    assert responses == ["utter_cancel_not_possible", "utter_ask_resolved"]


def test_reassign_request(svc):
    history = [user_event("司机太慢了,帮我换个司机", "cancel_order")]
    tracker = make_tracker(RIDE_LATE, slots=verified(RIDE_LATE), history=history)
    responses, events, _ = run(ActionCancelCheck(), tracker)
    assert responses == [] and followup(events) == "action_reassign_execute", "asked for by name: no second confirmation"
    responses, _, d = run(ActionReassignExecute(), make_tracker(intent="affirm", slots=verified(RIDE_LATE)))
    assert responses == ["utter_reassign_done_ride", "utter_ask_resolved"] and d.messages[0]["courier"] == "孙师傅"
    assert d.messages[0]["plate"] == "京B67890"


# -- change info -------------------------------------------------------------------
def test_change_info_before_dispatch(svc):
    responses, events, _ = run(ActionChangeInfoCheck(), make_tracker(slots=verified(FOOD_PREPARING)))
    assert responses == ["utter_change_info_ask_new"] and slot_events(events) == {"pending": "change_info"}
    responses, _, _ = run(ActionChangeInfoExecute(), make_tracker("地址改成文三路200号", slots=verified(FOOD_PREPARING)))
    assert responses == ["utter_change_info_done", "utter_ask_resolved"]
    assert svc.records_for_order(FOOD_PREPARING, "change")[0].data["request"] == "地址改成文三路200号"


def test_change_info_too_late(svc):
    responses, _, _ = run(ActionChangeInfoCheck(), make_tracker(slots=verified(PARCEL)))
    assert responses == ["utter_change_info_too_late_parcel", "utter_ask_resolved"]


# -- payments ---------------------------------------------------------------------
def test_duplicate_charge_refunded(svc):
    responses, events, d = run(ActionPaymentCheck(), make_tracker(slots=verified(RIDE_DUPLICATE)))
    assert responses == ["utter_payment_duplicate_found"] and d.messages[0]["refund_amount"] == "32.00"
    assert slot_events(events) == {"pending": "payment_refund"}
    responses, _, _ = run(ActionPaymentRefundExecute(), make_tracker(intent="affirm", slots=verified(RIDE_DUPLICATE)))
    assert responses == ["utter_payment_refund_done", "utter_ask_resolved"]
    assert [p.status for p in svc.payments_for_order(RIDE_DUPLICATE)] == ["success", "refunded"]


def test_paid_but_failed(svc):
    responses, _, d = run(ActionPaymentCheck(), make_tracker(slots=verified(FOOD_PAID_FAILED)))
    assert responses == ["utter_payment_paid_but_failed"] and d.messages[0]["refund_amount"] == "26.00"


def test_no_payment_anomaly_escalates(svc):
    responses, events, _ = run(ActionPaymentCheck(), make_tracker(slots=verified(FOOD_DONE)))
    assert responses == ["utter_payment_no_anomaly_handoff"] and handed_over(events, "unresolved")


# -- fees -------------------------------------------------------------------------
def test_fee_breakdown_adds_up(svc):
    responses, _, d = run(ActionFeeExplain(), make_tracker(slots=verified(RIDE_DUPLICATE)))
    assert responses == ["utter_fee_breakdown_ride", "utter_fee_adds_up", "utter_ask_resolved"]
    assert d.messages[0]["distance_fee"] == "18.00"


def test_fee_mismatch_escalates(svc):
    responses, events, d = run(ActionFeeExplain(), make_tracker(slots=verified(RIDE_MISMATCH)))
    assert responses == ["utter_fee_breakdown_ride", "utter_fee_mismatch_handoff"]
    assert d.messages[1]["difference"] == "18.00" and handed_over(events, "unresolved")


# -- damage -----------------------------------------------------------------------
def test_food_damage_claim(svc):
    responses, events, _ = run(ActionDamageCheck(), make_tracker(slots=verified(FOOD_DONE)))
    assert responses == ["utter_damage_sorry", "utter_damage_ask_description"]
    assert slot_events(events) == {"pending": "damage_photo"}
    responses, _, d = run(ActionDamageClaim(), make_tracker("汤洒了一半,照片里袋子全湿了", slots=verified(FOOD_DONE)))
    assert responses == ["utter_damage_claim_done", "utter_ask_resolved"] and d.messages[0]["claim_amount"] == "50.00"
    claim = svc.records_for_order(FOOD_DONE, "claim")[0]
    assert claim.data["items"] == ["酸菜鱼", "酸辣汤", "米饭"] and "汤洒了" in claim.data["description"]


def test_insured_parcel_over_limit(svc):
    responses, events, _ = run(ActionDamageClaim(), make_tracker("茶具碎了两个杯子", slots=verified(PARCEL_BROKEN)))
    assert responses == ["utter_damage_over_limit"] and handed_over(events, "over_limit")


# -- invoice ----------------------------------------------------------------------
def test_invoice(svc):
    responses, events, _ = run(ActionInvoiceCheck(), make_tracker(slots=verified(FOOD_DONE)))
    assert responses == ["utter_invoice_ask_email"] and slot_events(events) == {"pending": "invoice_email"}
    responses, events, _ = run(ActionInvoiceRecord(), make_tracker("liu@example", slots=verified(FOOD_DONE)))
    assert responses == ["utter_invoice_email_invalid"] and slot_events(events) == {"pending": "invoice_email"}
    tracker = make_tracker("发到 Liu@Example.com", entities=[{"entity": "email", "value": "Liu@Example.com"}],
                           slots=verified(FOOD_DONE))
    responses, events, d = run(ActionInvoiceRecord(), tracker)
    assert responses == ["utter_invoice_done", "utter_ask_resolved"] and d.messages[0]["email_masked"] == "l***@example.com"
    assert svc.records_for_order(FOOD_DONE, "invoice")[0].data["email"] == "liu@example.com"


def test_invoice_not_ready(svc):
    responses, _, _ = run(ActionInvoiceCheck(), make_tracker(slots=verified(FOOD_LATE)))
    assert responses == ["utter_invoice_not_ready", "utter_ask_resolved"]


# -- complaints -------------------------------------------------------------------
def test_complaint_ticket_with_2_3_7(svc):
    history = [user_event("司机态度太差了还骂人", "complain_service")]
    responses, events, d = run(ActionComplaintRecord(), make_tracker(slots=verified(RIDE_LATE), history=history))
    assert responses == ["utter_complaint_recorded_ride", "utter_complaint_confirm"]
    message = d.messages[0]
    assert (message["reply_hours"], message["close_days"], message["callback_days"]) == (2, 3, 7)
    assert message["person"] == "李师傅"
    ticket = svc.records_for_order(RIDE_LATE, "ticket")[0]
    assert set(ticket.data["due"]) == {"reply_by", "close_by", "callback_by"}
    assert slot_events(events) == {"pending": "resolved"}


# -- safety, closing, fallback, anger ----------------------------------------------------
def test_safety_needs_no_identity(svc):
    tracker = make_tracker("司机开到荒郊野外了,救命", intent="report_safety",
                           entities=[{"entity": "plate_number", "value": "京A12345"}])
    responses, events, _ = run(ActionSafety(), tracker)
    assert responses == ["utter_safety_trip"]  # on a trip: share the trip, a public place, 110
    assert handed_over(events, "safety") and "京A12345" in slot_events(events)["handoff_summary"]
    for text, kind in [("我腿受伤了在流血", "injury"), ("有人在门口砸门", "door"), ("我现在很危险", "general")]:
        responses, events, _ = run(ActionSafety(), make_tracker(text, intent="report_safety"))
        assert responses == [f"utter_safety_{kind}"] and handed_over(events, "safety"), text


def answer(text: str, intent: str, pending: str, **slots):
    return run(ActionAnswer(), make_tracker(text, intent=intent, slots={"pending": pending, **slots}))


def test_answers_to_was_it_solved(svc):
    responses, events, _ = answer("好的", "affirm", "resolved")
    assert responses == ["utter_glad_resolved", "utter_anything_else"] and slot_events(events)["pending"] == "anything_else"
    responses, events, _ = answer("谢谢", "thank", "resolved")
    assert responses == ["utter_glad_resolved", "utter_anything_else"], "thanks after a solution is not a goodbye"
    responses, events, _ = answer("没有", "deny", "resolved", **verified(FOOD_LATE))
    assert responses == ["utter_unresolved_handoff"] and handed_over(events, "unresolved")
    assert "…2345" in slot_events(events)["handoff_summary"]
    responses, events, _ = answer("没解决 我要今天到", "query_order_status", "resolved", **verified(FOOD_LATE))
    assert handed_over(events, "unresolved")
    responses, events, _ = answer("不用了", "deny", "resolved")
    assert responses == ["utter_ask_rating"] and slot_events(events)["pending"] == "rating"
    responses, events, _ = answer("拜拜", "goodbye", "resolved")
    assert responses == ["utter_ask_rating"], "a goodbye still gets the rating question"


def test_answers_to_anything_else(svc):
    assert answer("有的 还有个问题", "affirm", "anything_else")[0] == ["utter_please_go_ahead"]
    assert answer("好的", "affirm", "anything_else")[0] == ["utter_ask_rating"], "好的 to 'anything else?' means no"
    for text, intent in [("没有了", "deny"), ("谢谢", "thank"), ("再见", "goodbye")]:
        responses, events, _ = answer(text, intent, "anything_else")
        assert responses == ["utter_ask_rating"] and slot_events(events)["pending"] == "rating", text


def test_answers_to_an_offer(svc):
    for text, intent in [("好的", "affirm"), ("嗯 退吧", "request_refund"), ("谢谢", "thank")]:
        _, events, _ = answer(text, intent, "refund")
        assert followup(events) == "action_refund_execute", text
    for text, intent in [("不用了", "deny"), ("算了", "out_of_scope"), ("那先不取消 我再想想", "cancel_order")]:
        responses, events, _ = answer(text, intent, "cancel")
        assert responses == ["utter_offer_declined", "utter_anything_else"], text
        assert followup(events) is None and slot_events(events)["pending"] == "anything_else"
    _, events, _ = answer("帮我换个司机", "cancel_order", "reassign")
    assert followup(events) == "action_reassign_execute"
    responses, events, _ = answer("今天天气怎么样", "out_of_scope", "refund")
    assert responses == ["utter_offer_reask"] and followup(events) is None


def test_answers_to_open_questions_and_rating(svc):
    _, events, _ = answer("改到望京SOHO T1", "change_order_info", "change_info")
    assert followup(events) == "action_change_info_execute"
    assert answer("不用改了", "deny", "change_info")[0] == ["utter_offer_declined", "utter_anything_else"]
    _, events, _ = answer("5分", "rate", "rating")
    assert followup(events) == "action_rate"


def test_unprompted_yes_and_no(svc):
    responses, events, _ = answer("好的", "affirm", None)
    assert responses == ["utter_anything_else"] and slot_events(events)["pending"] == "anything_else"
    assert answer("不用了", "deny", None, **verified(FOOD_LATE))[0] == ["utter_ask_rating"]
    assert answer("不用了", "deny", None)[0] == ["utter_goodbye"]


def test_closing_actions(svc):
    assert run(ActionStopFlow(), make_tracker(intent="deny"))[0] == ["utter_flow_stopped"]
    responses, events, _ = run(ActionGoodbyeInFlow(), make_tracker(intent="goodbye"))
    assert responses == ["utter_goodbye"], "a goodbye must not be answered with another identity question"
    assert slot_events(events)["current_flow"] is None and slot_events(events)["identity_attempts"] == 0
    responses, events, _ = run(ActionAskRating(), make_tracker())
    assert responses == ["utter_ask_rating"] and slot_events(events)["pending"] == "rating"
    responses, events, _ = run(ActionRequestHuman(), make_tracker(intent="request_human"))
    assert responses == ["utter_request_human_ack"] and handed_over(events, "request_human")


def test_rating_only_after_the_rating_question(svc):
    asked = {"pending": "rating"}
    responses, events, _ = run(ActionRate(), make_tracker("5", intent="rate", slots=asked))
    assert responses == ["utter_rating_thanks"] and followup(events) is None
    assert slot_events(events)["rating"] == "5"
    for text in ["五星", "5分", "⭐⭐⭐⭐⭐", "非常满意"]:
        assert slot_events(run(ActionRate(), make_tracker(text, intent="rate", slots=asked))[1])["rating"] == "5", text
    responses, events, _ = run(ActionRate(), make_tracker("2分", intent="rate", slots=asked))
    assert responses == ["utter_low_rating_handoff"] and handed_over(events, "low_rating")
    responses, events, _ = run(ActionRate(), make_tracker("9", intent="rate", slots=asked))
    assert responses == ["utter_rating_invalid"] and "rating" not in slot_events(events)
    responses, events, _ = run(ActionRate(), make_tracker("/rate", intent="rate",
                                                        entities=[{"entity": "rating", "value": "1"}]))
    assert responses == ["utter_rating_not_asked"] and events == [], "an unasked rating is not recorded"


def test_three_step_fallback(svc):
    responses, events, _ = run(ActionFallback(), make_tracker("啊啊啊", intent="nlu_fallback"))
    assert responses == ["utter_fallback_rephrase"] and followup(events) is None
    history = [user_event("呃呃", "nlu_fallback")]
    responses, events, _ = run(ActionFallback(), make_tracker("哦哦", intent="nlu_fallback", history=history))
    assert responses == ["utter_fallback_examples"] and followup(events) is None
    # the third unclear message in a row (out_of_scope counts) offers a person, it does not hand over
    history = [user_event("呃呃", "nlu_fallback"), user_event("asdf", "out_of_scope")]
    responses, events, _ = run(ActionFallback(), make_tracker("哦哦", intent="nlu_fallback", history=history))
    assert responses == ["utter_fallback_offer_human"] and followup(events) is None
    # a understood message in between resets the count
    history = [user_event("呃呃", "nlu_fallback"), user_event("查订单", "query_order_status")]
    responses, _, _ = run(ActionFallback(), make_tracker("哦哦", intent="nlu_fallback", history=history))
    assert responses == ["utter_fallback_rephrase"]


def test_second_angry_message_hands_over(svc):
    history = [user_event("气死我了", "report_delay", sentiment="angry")]
    tracker = make_tracker("你们到底送不送!!", slots=verified(FOOD_LATE), history=history, sentiment="angry")
    responses, events, _ = run(ActionDelayHandle(), tracker)
    assert responses == ["utter_anger_handoff"] and handed_over(events, "anger")
    # only once: after the anger handoff the flow goes on normally
    history.append({"event": "slot", "name": "handoff_reason", "value": "anger"})
    tracker = make_tracker("好吧", slots=verified(FOOD_LATE), history=history, sentiment="angry")
    assert run(ActionDelayHandle(), tracker)[0][0] == "utter_delay_apology"


def test_fury_hands_over_and_keeps_the_request(svc):
    insult = user_event("你们都是废物", "request_refund", sentiment="angry")
    insult["parse_data"]["sentiment"]["fury"] = True
    tracker = make_tracker(FOOD_LATE, slots=verified(FOOD_LATE, current_flow="refund"), history=[insult])
    responses, events, _ = run(ActionDelayHandle(), tracker)
    assert responses == ["utter_anger_handoff", "utter_anger_request_kept_order"] and handed_over(events, "anger")
    assert "申请退款" in slot_events(events)["handoff_summary"]
