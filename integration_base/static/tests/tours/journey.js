/**
 * Steps for the tours that walk a user's journey through the integration app.
 *
 * Odoo's test browser takes pictures only when a tour fails; a journey's are meant to be
 * looked at when it passes. ``screenshot()`` is a step that asks the test for a picture of
 * the page as it is once its trigger shows, and waits until it is taken
 * (``JourneyTourCase`` in integration_base/tests/tour_case.py answers). Run by hand (no
 * test is listening, so its cookie is not set), the step does nothing.
 */

// Both names are read by integration_base/tests/tour_case.py.
const SCREENSHOT_COOKIE = "integration_journey_screenshots=1";
const SCREENSHOT_MARKER = "integration-journey-screenshot:";

/**
 * A picture of the page named ``name`` (letters, digits, "-" and "_"), taken once
 * ``trigger`` is on the page, scrolled into view when it is not.
 *
 * @param {string} name
 * @param {string} [trigger]
 */
export function screenshot(name, trigger = "body") {
    return {
        content: `Picture of the page: ${name}`,
        trigger,
        run() {
            if (!document.cookie.split("; ").includes(SCREENSHOT_COOKIE)) {
                return;
            }
            if (this.anchor !== document.body) {
                this.anchor.scrollIntoView({ block: "nearest" });
            }
            return new Promise((resolve) => {
                window.integrationJourneyScreenshotTaken = resolve;
                console.log(`${SCREENSHOT_MARKER}${name}`);
            });
        },
    };
}
