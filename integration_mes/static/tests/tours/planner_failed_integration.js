/**
 * Journey: a planner sees on a manufacturing order that its integration failed.
 *
 * Set up by TestMesJourneys.test_planner_sees_a_failed_integration_on_the_order
 * (integration_mes/tests/test_mes_journeys.py): the MES confirmed more than the order
 * plans, the backend does not allow overproduction, so the confirmation waits in
 * exception. A planner who only plans (no integration rights) reads on the order what
 * is wrong; one who may also read the integration opens the message from there.
 */
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";
import { screenshot } from "@integration_base/../tests/tours/journey";

function openOrderSteps() {
    return [
        ...stepUtils.goToAppSteps("mrp.menu_mrp_root", "Open Manufacturing"),
        {
            content: "Open the order the MES confirmed",
            trigger: ".o_data_row:contains(Gearbox) td[name=name]",
            run: "click",
        },
        {
            content: "The order warns that its integration is not going through, and why",
            trigger:
                ".o_form_view .alert-warning:contains(waits for someone):contains(does not allow overproduction)",
        },
    ];
}

registry.category("web_tour.tours").add("integration_mes_planner_sees_failed_integration", {
    url: "/odoo",
    steps: () => [
        ...openOrderSteps(),
        {
            content: "Without integration rights: no button to messages the planner cannot read",
            trigger:
                ".o_form_view:not(:has(button[name=action_open_integration_messages])):not(:has(button[name=action_open_integration_attention]))",
        },
        screenshot("order-warning", ".o_form_view .alert-warning:contains(waits for someone)"),
        {
            content: "Its chatter was told once",
            trigger: ".o-mail-Message:contains(Integration:):contains(does not allow overproduction)",
        },
        screenshot("order-chatter", ".o-mail-Message:contains(Integration:)"),
    ],
});

registry.category("web_tour.tours").add("integration_mes_planner_opens_failed_integration", {
    url: "/odoo",
    steps: () => [
        ...openOrderSteps(),
        {
            content: "The smart button counts the order's messages",
            trigger: ".o_form_view button[name=action_open_integration_messages]:contains(1)",
        },
        screenshot("order-with-button", ".o_form_view .alert-warning:contains(waits for someone)"),
        {
            content: "Open the messages that are not going through",
            trigger: ".o_form_view .alert-warning button[name=action_open_integration_attention]",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:contains(mes.production_confirmation):contains(Exception)",
        },
        {
            trigger: ".o_list_view .o_data_row:only",
        },
        screenshot("order-messages", ".o_list_view .o_data_row"),
        {
            content: "Open the message",
            trigger: ".o_list_view .o_data_row td[name=received_at]",
            run: "click",
        },
        {
            content: "Its reason, in words",
            trigger: ".o_form_view .alert-danger:contains(Waiting for someone):contains(does not allow overproduction)",
        },
        {
            content: "An integration user reads the payload; correcting it is for operators",
            trigger: ".o_form_view:not(:contains(Correct the payload)):not(:has(button[name=action_create_mapping]))",
        },
        screenshot("message-reason", ".o_form_view .alert-danger"),
    ],
});
