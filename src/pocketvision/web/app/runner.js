// The runner game: our own small canvas game (no assets), steered by jump() and
// duck(). The page that owns it (app-play.js, the phone studio's game, which `play`
// serves too) feeds it the model's actions; keyboard and touch steer it too.

export class RunnerGame {
  // state: an object the game keeps its score and counters in (window.gameState
  // on the pages, for tests and the curious); hint(): "Show “up”" or "Press Space".
  constructor(canvas, state, hint = () => "Press Space") {
    this.canvas = canvas;
    this.draw = canvas.getContext("2d");
    this.W = canvas.width;
    this.H = canvas.height;
    this.GROUND = this.H - 46;
    this.state = Object.assign(state, { jumps: 0, ducks: 0, score: 0, best: 0, running: false, crashed: false });
    this.hint = hint;
    this.runner = { x: 90, y: this.GROUND, vy: 0, ducking: false, step: 0 };
    this.reset();
    this.state.running = false;
  }

  reset() {
    this.obstacles = []; this.speed = 6; this.spawnIn = 60; this.ticks = 0;
    Object.assign(this.state, { score: 0, crashed: false, running: true });
  }

  jump() {
    if (this.state.crashed) this.reset();
    const runner = this.runner;
    if (runner.y >= this.GROUND && !runner.ducking) { runner.vy = -15.5; this.state.jumps += 1; }
    this.state.running = true;
  }

  duck(down) {
    if (down && !this.runner.ducking) this.state.ducks += 1;
    this.runner.ducking = down;
  }

  // Fixed 60 steps a second, however fast the screen draws.
  start(onFrame = () => {}) {
    let last = performance.now(), carry = 0;
    const frame = (now) => {
      carry += Math.min(100, now - last); last = now;
      while (carry >= 1000 / 60) { this.tick(); carry -= 1000 / 60; }
      this.render();
      onFrame(this.state);
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  }

  // Keyboard (Space/Up jump, Down ducks) and a tap on the world (jump).
  listen(target = window) {
    target.addEventListener("keydown", (e) => {
      if (e.target.closest?.("input, select, textarea")) return;
      if (e.code === "Space" || e.code === "ArrowUp") { this.jump(); e.preventDefault(); }
      if (e.code === "ArrowDown") { this.duck(true); e.preventDefault(); }
    });
    target.addEventListener("keyup", (e) => { if (e.code === "ArrowDown") this.duck(false); });
    this.canvas.addEventListener("pointerdown", () => this.jump());
  }

  spawn() {
    const flying = this.ticks > 400 && Math.random() < 0.35, { W, GROUND } = this;
    this.obstacles.push(flying
      ? { kind: "drone", x: W + 20, y: GROUND - 70, w: 46, h: 22 }
      : { kind: "crate", x: W + 20, y: GROUND - 38, w: 30 + Math.random() * 22, h: 38 });
    this.spawnIn = Math.max(38, 100 - this.speed * 4) + Math.random() * 50;
  }

  hitbox() {
    const h = this.runner.ducking ? 30 : 56;
    return { x: this.runner.x - 18, y: this.runner.y - h, w: 36, h };
  }

  tick() {
    const state = this.state, runner = this.runner;
    if (!state.running || state.crashed) return;
    this.ticks += 1;
    this.speed = Math.min(14, 6 + this.ticks / 600);
    runner.vy += 0.85;
    runner.y = Math.min(this.GROUND, runner.y + runner.vy);
    if (runner.y >= this.GROUND) runner.vy = 0;
    runner.step += this.speed / 60;
    if (--this.spawnIn <= 0) this.spawn();
    for (const o of this.obstacles) o.x -= this.speed;
    this.obstacles = this.obstacles.filter((o) => o.x + o.w > -10);
    state.score = Math.floor(this.ticks / 6);
    state.best = Math.max(state.best, state.score);
    const box = this.hitbox();
    if (this.obstacles.some((o) => box.x < o.x + o.w && box.x + box.w > o.x && box.y < o.y + o.h && box.y + box.h > o.y)) {
      state.crashed = true;
    }
  }

  // ---- drawing (our own simple shapes) --------------------------------------
  render() {
    const { draw, W, H, GROUND, ticks, speed } = this;
    const sky = draw.createLinearGradient(0, 0, 0, H);
    sky.addColorStop(0, "#dfe8ff"); sky.addColorStop(1, "#f6f8ff");
    draw.fillStyle = sky; draw.fillRect(0, 0, W, H);
    draw.fillStyle = "#c9d4f2"; // distant hills
    for (let i = 0; i < 5; i++) {
      const x = ((i * 260 - ticks * 0.6) % (W + 260) + W + 260) % (W + 260) - 130;
      draw.beginPath(); draw.ellipse(x, GROUND + 10, 150, 60, 0, Math.PI, 0); draw.fill();
    }
    draw.fillStyle = "#3b4a6b"; draw.fillRect(0, GROUND, W, 3); // ground
    draw.fillStyle = "#9aa6c4";
    for (let x = -((ticks * speed) % 40); x < W; x += 40) draw.fillRect(x, GROUND + 12, 14, 2);
    for (const o of this.obstacles) (o.kind === "crate" ? this.drawCrate : this.drawDrone).call(this, o);
    this.drawRunner();
    if (!this.state.running || this.state.crashed) this.drawBanner();
  }

  // Drawn at least as large as 22 and 15 CSS pixels on screen: on a phone the
  // canvas is shown at about 40 % of its width, which made the text 6 px.
  drawBanner() {
    const { draw, W, H, state } = this;
    const scale = Math.min(2.6, Math.max(1, W / (this.canvas.clientWidth || W)));
    const width = Math.min(W - 16, 460 * scale), height = 84 * scale;
    draw.fillStyle = "rgba(29, 36, 51, 0.72)"; draw.fillRect(W / 2 - width / 2, H / 2 - height / 2 - 10, width, height);
    draw.fillStyle = "white"; draw.textAlign = "center";
    draw.font = `600 ${22 * scale}px system-ui, sans-serif`;
    draw.fillText(state.crashed ? `Crashed at ${state.score}` : "Ready", W / 2, H / 2 - 14 * scale);
    draw.font = `${15 * scale}px system-ui, sans-serif`;
    draw.fillText(`${this.hint()} to ${state.crashed ? "run again" : "start"}`, W / 2, H / 2 + 14 * scale, W - 24);
  }

  drawRunner() {
    const { draw, GROUND } = this, { x, y } = this.runner, bodyH = this.runner.ducking ? 26 : 44;
    draw.fillStyle = "#3b5bdb";
    this.roundRect(x - 18, y - bodyH - 10, 36, bodyH, 10); draw.fill();
    draw.fillStyle = "white";
    draw.beginPath(); draw.arc(x + 8, y - bodyH + 2, 5, 0, 7); draw.fill();
    draw.fillStyle = "#1d2433";
    draw.beginPath(); draw.arc(x + 10, y - bodyH + 2, 2.4, 0, 7); draw.fill();
    draw.strokeStyle = "#1d2433"; draw.lineWidth = 5; draw.lineCap = "round";
    const swing = this.runner.y < GROUND ? 0.6 : Math.sin(this.runner.step * 6) * 0.7;
    for (const s of [swing, -swing]) {
      draw.beginPath(); draw.moveTo(x, y - 10); draw.lineTo(x + Math.sin(s) * 12, y); draw.stroke();
    }
  }

  drawCrate(o) {
    const { draw } = this;
    draw.fillStyle = "#e8590c"; this.roundRect(o.x, o.y, o.w, o.h, 5); draw.fill();
    draw.strokeStyle = "rgba(255,255,255,0.55)"; draw.lineWidth = 2;
    draw.beginPath(); draw.moveTo(o.x + 5, o.y + 5); draw.lineTo(o.x + o.w - 5, o.y + o.h - 5); draw.stroke();
  }

  drawDrone(o) {
    const { draw } = this;
    draw.fillStyle = "#5f3dc4"; this.roundRect(o.x, o.y, o.w, o.h, 8); draw.fill();
    draw.fillStyle = "#b197fc";
    const blade = (this.ticks % 6) < 3 ? 18 : 10;
    draw.fillRect(o.x + 4, o.y - 5, blade, 3); draw.fillRect(o.x + o.w - 4 - blade, o.y - 5, blade, 3);
  }

  roundRect(x, y, w, h, r) {
    const { draw } = this;
    draw.beginPath(); draw.moveTo(x + r, y); draw.arcTo(x + w, y, x + w, y + h, r);
    draw.arcTo(x + w, y + h, x, y + h, r); draw.arcTo(x, y + h, x, y, r); draw.arcTo(x, y, x + w, y, r);
    draw.closePath();
  }
}
