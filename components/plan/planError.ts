/** A change the planner refuses: the message names what is unsafe and how to proceed. */
import * as pulumi from "@pulumi/pulumi";

// A RunError: Pulumi prints its message as a clean error, without a stack trace.
export class PlanError extends pulumi.RunError {
    constructor(message: string) {
        super(message);
        this.name = "PlanError";
    }
}
