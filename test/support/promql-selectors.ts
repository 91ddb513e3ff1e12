// The series selectors of a PromQL expression (metric name and label matchers), read with the
// Prometheus project's own PromQL grammar (@prometheus-io/lezer-promql, the parser of its web UI).
import { parser } from "@prometheus-io/lezer-promql";

export type MatchOp = "=" | "!=" | "=~" | "!~";

export interface LabelMatcher {
  label: string;
  op: MatchOp;
  value: string;
}

export interface SeriesSelector {
  /** As written in the expression. */
  text: string;
  metric: string;
  matchers: LabelMatcher[];
}

export function seriesSelectors(expr: string): SeriesSelector[] {
  const tree = parser.parse(expr);
  const text = (node: { from: number; to: number }) => expr.slice(node.from, node.to);
  const errors: string[] = [];
  const selectors: SeriesSelector[] = [];
  tree.iterate({
    enter(node) {
      if (node.type.isError) errors.push(`at ${node.from}: "${expr.slice(node.from, node.from + 20)}"`);
      if (node.name !== "VectorSelector") return;
      const selector: SeriesSelector = { text: text(node), metric: "", matchers: [] };
      const identifier = node.node.getChild("Identifier");
      if (identifier) selector.metric = text(identifier);
      const matchers = node.node.getChild("LabelMatchers");
      for (const m of matchers ? [...matchers.getChildren("UnquotedLabelMatcher")] : []) {
        const label = m.getChild("LabelName");
        const op = m.getChild("MatchOp");
        const value = m.getChild("StringLiteral");
        if (!label || !op || !value) throw new Error(`cannot read the matcher ${text(m)} in ${expr}`);
        selector.matchers.push({
          label: text(label),
          op: text(op) as MatchOp,
          value: JSON.parse(text(value).replace(/^'|'$/g, '"')) as string,
        });
      }
      selectors.push(selector);
    },
  });
  if (errors.length > 0) throw new Error(`not valid PromQL (${errors.join(", ")}): ${expr}`);
  return selectors;
}
