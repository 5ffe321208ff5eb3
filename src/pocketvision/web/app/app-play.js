// The Play view: the runner game steered by the model through the camera (jump and
// duck on the classes the player picks), the live label and probabilities, and the
// frames the model is unsure of, offered for one-tap adding to a class.

import { described, pictureOf } from "./camera.js";
import { RunnerGame } from "./runner.js";
import { UNKNOWN } from "../recipe/shared.js";
import { Smoother } from "../recipe/smoothing.js";
import { el, probabilityBars } from "./ui.js";
import { frameLoop } from "./frame-loop.js";

const UNSURE_EVERY_MS = 1500;

export function playView(app) {
  const { state, $ } = app;
  let smoother = new Smoother({}), actions = Object.create(null), showBars = null;
  let lastOffer = 0, offeredUrl = ""; // offeredUrl: the shown unsure frame's blob URL
  const game = new RunnerGame($("world"), state, hint);
  game.start((s) => { $("score").textContent = s.score; $("best").textContent = s.best; });
  game.listen();
  $("jump").addEventListener("pointerdown", (e) => { game.jump(); e.preventDefault(); });
  for (const end of ["pointerup", "pointercancel", "pointerleave"]) $("duck").addEventListener(end, () => game.duck(false));
  $("duck").addEventListener("pointerdown", (e) => { game.duck(true); e.preventDefault(); });

  function hint() {
    const label = Object.keys(actions).find((l) => actions[l].key === "jump");
    const touch = matchMedia("(pointer: coarse)").matches;
    return label ? `Show “${label}” or ${touch ? "tap Jump" : "press Space"}` : touch ? "Tap Jump" : "Press Space";
  }

  // ---- which class does what: --map, else the player's last choice, else up/down ----
  function chooseActions(labels) {
    const mapped = app.site.config.actions || {};
    const fromMap = (key) => Object.keys(mapped).find((l) => mapped[l].key === key && labels.includes(l)) || "";
    const saved = JSON.parse(localStorage.getItem(`pocketvision.actions:${location.pathname}`) || "{}");
    const pick = (key, guess) => fromMap(key) || (labels.includes(saved[key]) ? saved[key] : "") ||
      (labels.includes(guess) ? guess : "");
    const chosen = { jump: pick("jump", "up"), duck: pick("duck", "down") };
    for (const key of ["jump", "duck"]) {
      const select = $(`${key}-class`);
      select.replaceChildren(el("option", { value: "" }, "nothing"),
        ...labels.map((label) => el("option", { value: label }, label)));
      select.value = chosen[key];
      select.onchange = () => {
        chosen[key] = select.value;
        localStorage.setItem(`pocketvision.actions:${location.pathname}`, JSON.stringify(chosen));
        apply(chosen);
      };
    }
    apply(chosen);
  }

  function apply(chosen) {
    actions = Object.create(null); // keyed by class names: "__proto__" is a name too
    if (chosen.jump) actions[chosen.jump] = { key: "jump", mode: "tap" };
    if (chosen.duck && chosen.duck !== chosen.jump) actions[chosen.duck] = { key: "duck", mode: "hold" };
    smoother = new Smoother(actions);
    $("steer").textContent = steering(chosen);
  }

  // What steers the game, in words (the canvas's banner is small on a phone).
  function steering({ jump, duck }) {
    if (!jump && !duck) return "No class steers the game yet: choose one under “Jump on” (or tap Jump).";
    const parts = [jump && `“${jump}” jumps`, duck && duck !== jump && `“${duck}” ducks`].filter(Boolean);
    return `${parts.join(", ")}: show ${jump && duck && duck !== jump ? "them" : "it"} to the camera.`;
  }

  function modelChanged() {
    chooseActions(app.model.labels);
    $("game-model").textContent = `Game model: ${app.model.agreement}`;
    state.gameModel = app.model.agreement;
    showBars = probabilityBars($("bars"), app.model.labels);
    $("label").textContent = "…";
  }

  // ---- each classified camera frame ------------------------------------------------
  const frames = frameLoop(app, async (result, now, metadata, model) => {
    // a frame like nothing the model was trained on confirms no class: it presses nothing
    const probabilities = Object.fromEntries(model.labels.map((l, i) => [l, result.unknown ? 0 : result.probabilities[i]]));
    for (const event of smoother.update(now / 1000, metadata.presentedFrames, probabilities)) {
      if (event.key === "jump" && event.action === "tap") game.jump();
      if (event.key === "duck") game.duck(event.action === "down");
    }
    showBars?.(result.probabilities, model.labels.indexOf(smoother.active));
    $("label").textContent = result.unknown ? UNKNOWN : `${result.label} ${Math.round(100 * result.confidence)}%`;
    if (result.unsure) offer(result);
  });
  frames.onRate = (fps) => {
    $("fps").textContent = fps.toFixed(0);
    $("ms").textContent = state.inferenceMs.toFixed(0);
  };

  // ---- frames the model is unsure of: keep one, offer it for a class ------------
  async function offer(result) {
    if (performance.now() - lastOffer < UNSURE_EVERY_MS) return;
    lastOffer = performance.now();
    const picture = await pictureOf(app.video, app.site.backbone.preprocessing.resize);
    const project = await app.store.project();
    URL.revokeObjectURL(offeredUrl); // the previous offer's picture, now replaced
    const url = offeredUrl = URL.createObjectURL(picture.blob);
    const buttons = project.map((c) => {
      const add = el("button", {}, c.name);
      add.onclick = async () => {
        try {
          await app.store.addPictures(c.id, [await described(picture)]);
          box.replaceChildren(el("span", { className: "muted" }, `Added to “${c.name}”: train again to use it.`));
          await app.refresh();
        } catch (error) { app.notice(error.message); }
      };
      return add;
    });
    const box = $("unsure");
    box.hidden = false;
    box.replaceChildren(el("img", { src: url, alt: "A frame the model was unsure about" }),
      el("div", {}, el("div", {}, result.unknown ? "Like nothing it knows." :
        `Not sure (${Math.round(100 * result.confidence)}% “${result.label}”). Add it to:`),
      el("div", { className: "unsure-classes" }, ...buttons)));
  }

  return {
    modelChanged,
    shown() {
      if (!app.model) app.notice("There is no model yet: collect pictures, then train one.", "info");
      frames.start();
    },
    hidden() { frames.stop(); },
  };
}
