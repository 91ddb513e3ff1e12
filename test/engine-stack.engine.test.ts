// The engine stack under the real Pulumi engine with the default CLI: a user's own pulumi when it
// is new enough, else the pinned CLI built from Go modules (v3.171, which runs the policy pack).
// The steps: test/support/engine-stack-scenario.ts.
import { engineStackScenario } from "./support/engine-stack-scenario";

engineStackScenario("default");
