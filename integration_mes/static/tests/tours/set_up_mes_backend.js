/**
 * Journey: an administrator connects the MES of a plant.
 *
 * Run by TestMesJourneys.test_administrator_sets_up_an_mes_backend
 * (integration_mes/tests/test_mes_journeys.py): a new backend for Plant B, its HMAC
 * signing key typed once (the field is write-only), the MES contracts added from the
 * backend's MES tab, then the backend activated, its contracts listed.
 */
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";
import { screenshot } from "@integration_base/../tests/tours/journey";

// The key the plant's MES signs its calls with; the test checks that it was stored.
const SIGNING_KEY = "plant-b-mes-signing-key-3f9c2e7a51d84b06";

function selectMenuItem(fieldSelector, label) {
    return [
        {
            trigger: `${fieldSelector} .o_select_menu_toggler`,
            run: "click",
        },
        {
            trigger: `.o_select_menu_menu .o_select_menu_item:contains(${label})`,
            run: "click",
        },
        {
            trigger: `${fieldSelector} .o_select_menu_toggler:value(${label})`,
        },
    ];
}

registry.category("web_tour.tours").add("integration_mes_set_up_backend", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("integration_base.menu_integration_root", "Open Integration"),
        {
            content: "Open Configuration",
            trigger: 'button[data-menu-xmlid="integration_base.menu_integration_configuration"]',
            run: "click",
        },
        {
            content: "Open the backends",
            trigger: 'a[data-menu-xmlid="integration_base.menu_integration_backend"]',
            run: "click",
        },
        {
            content: "A new backend",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=name] input",
            run: "edit Plant B MES",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=code] input",
            run: "edit plant-b-mes",
        },
        ...selectMenuItem(".o_form_view .o_field_widget[name=system_type]", "MES"),
        {
            content: "The plant it runs at",
            trigger: ".o_form_view .o_field_widget[name=warehouse_id] input",
            run: "edit Plant B",
        },
        {
            trigger: ".o-autocomplete--dropdown-item > a:contains(Plant B)",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=warehouse_id] input:value(Plant B)",
        },
        screenshot("new-backend", ".o_form_view .o_field_widget[name=warehouse_id]"),
        {
            content: "Its credentials",
            trigger: ".o_form_view .o_notebook a.nav-link:contains(Credentials)",
            run: "click",
        },
        {
            content: "The empty list says what to add",
            trigger: ".o_form_view .alert-info:contains(No credential yet)",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=credential_ids] .o_field_x2many_list_row_add a",
            run: "click",
        },
        ...selectMenuItem(".o_form_view .o_field_widget[name=credential_ids] .o_selected_row td[name=kind]", "HMAC signing key"),
        {
            content: "Type the signing key, once",
            trigger: ".o_form_view .o_field_widget[name=credential_ids] .o_selected_row td[name=secret] input",
            run: `edit ${SIGNING_KEY}`,
        },
        ...stepUtils.saveForm(),
        {
            content: "Saved: the key is kept, and never shown again",
            trigger: ".o_form_view .o_field_widget[name=credential_ids] .o_data_row:contains(HMAC signing key) td[name=has_secret] input:checked",
        },
        {
            trigger: `.o_form_view:not(:has(input:value(${SIGNING_KEY})))`,
        },
        screenshot("credential-saved", ".o_form_view .o_field_widget[name=credential_ids] .o_data_row"),
        {
            content: "Add Contracts adds the contracts the MES connector offers",
            trigger: ".o_form_view .o_form_statusbar button[name=action_add_contracts]",
            run: "click",
        },
        {
            content: "The MES contracts, as drafts",
            trigger: ".o_list_view .o_data_row:contains(mes.production_confirmation):contains(Draft)",
        },
        {
            trigger: ".o_list_view .o_data_row:eq(4)",
        },
        screenshot("contracts-added", ".o_list_view .o_data_row:contains(mes.quality_hold)"),
        {
            content: "Back to the backend",
            trigger: ".o_breadcrumb .o_back_button",
            run: "click",
        },
        {
            content: "Activate it",
            trigger: ".o_form_view button[name=action_activate]",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_statusbar_status button[aria-checked=true]:contains(Active)",
        },
        {
            content: "The backend lists its contracts",
            trigger: ".o_form_view .o_notebook a.nav-link:contains(Flows)",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=flow_ids] .o_data_row:contains(mes.production_order)",
        },
        screenshot("backend-active", ".o_form_view .o_field_widget[name=flow_ids] .o_data_row:last"),
    ],
});
