// The engine stack under the real Pulumi engine with the newest CLI that builds here from Go
// modules (PULUMI_NEWEST_VERSION): preview, up, no-change preview, a config change and destroy as
// with the pinned CLI; the policy pack is refused (no language host with RunPlugin can be built).
// The steps: test/support/engine-stack-scenario.ts.
import { engineStackScenario } from "./support/engine-stack-scenario";

engineStackScenario("newest");
