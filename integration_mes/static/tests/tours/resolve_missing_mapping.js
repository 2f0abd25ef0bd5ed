/**
 * Journey: an integration operator maps a code the MES sent, and its messages apply.
 *
 * Set up by TestMesJourneys.test_operator_maps_a_new_code_and_its_messages_apply
 * (integration_mes/tests/test_mes_journeys.py):
 * two production confirmations name the component code SHAFT-V2, which no mapping
 * knows, and wait in exception. The first tour maps the code from one of the messages;
 * the test then runs the dispatcher's drain, as the job runner would; the second tour
 * sees both messages done and the order they confirmed.
 */
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";
import { screenshot } from "@integration_base/../tests/tours/journey";

/** Integration > Monitoring > the menu ``menuXmlid`` (of integration_base). */
function monitoringMenu(menuXmlid) {
    return [
        {
            content: "Open Monitoring",
            trigger: 'button[data-menu-xmlid="integration_base.menu_integration_monitoring"]',
            run: "click",
        },
        {
            content: `Open ${menuXmlid}`,
            trigger: `a[data-menu-xmlid="integration_base.${menuXmlid}"]`,
            run: "click",
        },
    ];
}

function openIntegrationMenu(menuXmlid) {
    return [
        ...stepUtils.goToAppSteps("integration_base.menu_integration_root", "Open Integration"),
        ...monitoringMenu(menuXmlid),
    ];
}

registry.category("web_tour.tours").add("integration_mes_resolve_missing_mapping", {
    url: "/odoo",
    steps: () => [
        ...openIntegrationMenu("menu_integration_exception"),
        {
            content: "The exceptions are grouped by contract: open the confirmations",
            trigger: ".o_group_header:contains(mes.production_confirmation)",
            run: "click",
        },
        screenshot("exceptions", ".o_data_row:contains(SHAFT-V2):eq(1)"),
        {
            content: "Open the newest confirmation in exception",
            trigger: ".o_data_row:contains(SHAFT-V2):first td[name=received_at]",
            run: "click",
        },
        {
            content: "The reason, in words, and what is missing",
            trigger:
                ".o_form_view .alert-danger:contains(Waiting for someone):contains(SHAFT-V2):contains(which is not mapped)",
        },
        {
            trigger: ".o_form_view .alert-danger:contains(Missing:):contains(code 'SHAFT-V2' stands for no)",
        },
        {
            content: "A retry would fail the same way: the form says so instead of offering one",
            trigger: ".o_form_view .alert-danger:contains(Create the missing mapping)",
        },
        {
            trigger: ".o_form_view .o_statusbar_buttons:not(:has(button[name=action_retry]))",
        },
        screenshot("message-reason", ".o_form_view button[name=action_create_mapping]"),
        {
            content: "Create the mapping from the message",
            trigger: ".o_form_view button[name=action_create_mapping]",
            run: "click",
        },
        {
            content: "One line per code: SHAFT-V2, with the messages that wait for it",
            trigger: ".modal .o_data_row:contains(SHAFT-V2) td[name=message_count]:contains(2)",
        },
        {
            content: "Say which product the code stands for",
            trigger: ".modal .o_data_row:contains(SHAFT-V2) td[name=res_id]",
            run: "click",
        },
        {
            trigger: ".modal .o_data_row:contains(SHAFT-V2) td[name=res_id] input",
            run: "edit Shaft",
        },
        {
            trigger: ".modal .o-autocomplete--dropdown-item > a:contains(Shaft)",
            run: "click",
        },
        {
            content: "Leave the line: it shows what the code will stand for",
            trigger: ".modal .modal-body p.text-muted",
            run: "click",
        },
        screenshot("mapping-dialog", ".modal .o_data_row:not(.o_selected_row) td[name=res_id]:contains(Shaft)"),
        {
            content: "Create the mapping: the waiting messages go back to the queue",
            trigger: ".modal button[name=action_create_mappings]",
            run: "click",
        },
        {
            trigger: ".o_notification:contains(1 mapping):contains(2 waiting message)",
        },
        {
            content: "The message waits for the dispatcher now",
            trigger: "body:not(:has(.modal)) .o_form_view .o_statusbar_status button[aria-checked=true]:contains(Queued)",
        },
        screenshot("back-in-queue", ".o_notification:contains(2 waiting message)"),
    ],
});

registry.category("web_tour.tours").add("integration_mes_missing_mapping_applied", {
    url: "/odoo",
    steps: () => [
        ...openIntegrationMenu("menu_integration_exception"),
        {
            content: "Nothing waits for anyone any more",
            trigger: ".o_view_nocontent:contains(Nothing waits for anyone)",
        },
        ...monitoringMenu("menu_integration_missing_mapping"),
        {
            content: "Every code is mapped",
            trigger: ".o_view_nocontent:contains(Every code is mapped)",
        },
        ...monitoringMenu("menu_integration_message"),
        {
            content: "Both confirmations are done",
            trigger: ".o_data_row:contains(mes.production_confirmation):contains(Done):eq(1)",
        },
        {
            trigger: ".o_list_view:not(:has(.o_data_row:contains(Exception)))",
        },
        screenshot("messages-done", ".o_data_row:contains(Done):eq(1)"),
        {
            content: "Open the newest one",
            trigger: ".o_data_row:contains(mes.production_confirmation):first td[name=received_at]",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_statusbar_status button[aria-checked=true]:contains(Done)",
        },
        {
            content: "The History tab tells what sent it back to the queue",
            trigger: ".o_form_view .o_notebook a.nav-link:contains(History)",
            run: "click",
        },
        {
            trigger: ".o_form_view [name=transition_log]:contains(the mapping for SHAFT-V2 now exists)",
        },
        screenshot("message-done", ".o_form_view [name=transition_log]"),
        {
            content: "Open the order it confirmed",
            trigger: ".o_form_view button[name=action_open_record]",
            run: "click",
        },
        {
            content: "The order produces what the MES confirmed",
            trigger: ".o_form_view .o_field_widget[name=qty_producing] input:value(3.00)",
        },
        screenshot("order-produced", ".o_form_view .o_field_widget[name=qty_producing]"),
        {
            content: "Its chatter tells what the MES confirmed",
            trigger: ".o-mail-Message:contains(MES confirmation EV-102: 3 produced)",
        },
        screenshot("order-chatter", ".o-mail-Message:contains(MES confirmation EV-102)"),
    ],
});
