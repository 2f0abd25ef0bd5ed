/**
 * Journey: a planner reads what a breakdown the CMMS reported did to production.
 *
 * Set up by TestCmmsJourneys.test_planner_reads_the_breakdown_and_the_order_it_hit
 * (integration_cmms/tests/test_cmms_journeys.py): the press broke down during an order
 * planned on the press line. The planner finds the breakdown under Maintenance > CMMS,
 * reads its failure code, the hours and quantity lost, and opens the order it hit.
 */
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";
import { screenshot } from "@integration_base/../tests/tours/journey";

registry.category("web_tour.tours").add("integration_cmms_planner_reads_a_breakdown", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("maintenance.menu_maintenance_title", "Open Maintenance"),
        {
            content: "Open the CMMS menu",
            trigger: ".o_menu_sections button:contains(CMMS), .o_menu_sections a:contains(CMMS)",
            run: "click",
        },
        {
            content: "Its breakdowns",
            trigger: ".dropdown-item:contains(Breakdowns)",
            run: "click",
        },
        {
            content: "The press is down, in red",
            trigger: ".o_list_view .o_data_row.text-danger:contains(BD-42):contains(Press P-100)",
        },
        screenshot("breakdowns", ".o_list_view .o_data_row:contains(BD-42)"),
        {
            content: "Open the breakdown",
            trigger: ".o_list_view .o_data_row:contains(BD-42) td[name=name]",
            run: "click",
        },
        {
            content: "Its failure, on the neutral code list",
            trigger: ".o_form_view .o_field_widget[name=failure_mode_id]:contains(VIB Vibration)",
        },
        {
            content: "The order it hit, with the quantity not produced",
            trigger: ".o_form_view .o_field_widget[name=impact_ids] .o_data_row:contains(Press Line)",
        },
        screenshot("breakdown", ".o_form_view .o_field_widget[name=impact_ids]"),
        {
            content: "Open the orders hit",
            trigger: ".o_form_view button[name=action_open_productions]:contains(1)",
            run: "click",
        },
        {
            content: "The planner's order, with the activity the breakdown left",
            trigger: ".o_list_view .o_data_row:only:contains(Bracket)",
        },
    ],
});
