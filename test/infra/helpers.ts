import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/** The context of cdk.json, so in-process apps behave as `npx cdk synth` does. */
export const cdkJsonContext: Record<string, unknown> = JSON.parse(
  readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'),
).context;

/** An app that skips asset bundling: the template is the same, only the asset hashes differ. */
export function testApp(context: Record<string, unknown> = {}): App {
  return new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [], ...context } });
}

export function testStack(app = testApp()): Stack {
  return new Stack(app, 'Test');
}

/** A policy statement as it appears in the template: one shape for comparison. */
export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
  Principal?: unknown;
}

/** Every statement of the inline policies attached to `role`, in template order. */
export function roleStatements(template: Template, stack: Stack, role: iam.IRole): Statement[] {
  const ref = stack.resolve(role.roleName);
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(JSON.stringify(ref)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

/** Every statement of every policy document in a template (inline, managed, resource policies, trust). */
export function allStatements(template: Template): Statement[] {
  const found: Statement[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item);
    } else if (value !== null && typeof value === 'object') {
      const object = value as Record<string, unknown>;
      if (Array.isArray(object.Statement)) found.push(...(object.Statement as Statement[]));
      for (const child of Object.values(object)) walk(child);
    }
  };
  walk(template.toJSON().Resources);
  return found;
}

export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** The acknowledgements (`Validations.of(x).acknowledge`) recorded in a construct tree: rule id → reason. */
export function acknowledgements(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === 'aws:cdk:acknowledged-rules')
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id,
          reason,
        })),
      ),
  );
}
