// DOM helpers shared by the studio and the game page.

// Build an element; children are nodes or text (labels are the user's folder
// names, so they go in as text, never as HTML).
export function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

// One row per label (name, bar, percentage) in `container`; returns
// show(probabilities, activeIndex) to update them for each frame.
export function probabilityBars(container, labels) {
  const rows = labels.map((label) => el("div", { className: "bar-row" }, el("span", {}, label),
    el("div", { className: "bar-track" }, el("div", { className: "bar-fill" })),
    el("span", { className: "p" }, "0%")));
  container.replaceChildren(...rows);
  return (probabilities, active) => rows.forEach((row, i) => {
    const percent = `${(100 * probabilities[i]).toFixed(0)}%`;
    row.querySelector(".bar-fill").style.width = percent;
    row.querySelector(".p").textContent = percent;
    row.classList.toggle("active", i === active);
  });
}
