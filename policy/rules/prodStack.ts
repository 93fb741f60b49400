/** Which stacks count as production: their name starts with "prod" (prod, prod-eu, production...). */
export function isProdStack(stack: string): boolean {
    return stack.startsWith("prod");
}
