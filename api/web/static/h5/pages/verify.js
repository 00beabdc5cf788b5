// Placeholder until this page is built.
import { emptyState } from "../../shared/dom.js";

export default function render(view) {
  view.append(emptyState("页面建设中"));
}
