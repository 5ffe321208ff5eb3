// How the Use view tells a person what it sees without a look at the screen: a word
// spoken (Web Speech), or a tone (Web Audio: higher for each class further down the
// list, a low double tone for "not sure"), and a vibration (class 1: one pulse, class
// 2: two, ...). Each is used only where the browser has it; `missing()` says, in
// words, which of them this browser lacks.

const PULSE_MS = 90;

export class Voice {
  constructor() {
    this.settings = { say: "speak", rate: 1, vibrate: true };
    this.audio = null;
  }

  // Sentences for what this browser cannot do of what the settings ask.
  missing() {
    const lacking = [];
    if (this.settings.say === "speak" && !("speechSynthesis" in self)) lacking.push("speak (choose Beep instead)");
    if (this.settings.say === "beep" && !(self.AudioContext || self.webkitAudioContext)) lacking.push("beep");
    if (this.settings.vibrate && !("vibrate" in navigator)) lacking.push("vibrate");
    return lacking;
  }

  // A class appeared: its name (or its tone) and its pulses.
  announce(label, index) {
    if (this.settings.say === "speak") this.speak(label);
    if (this.settings.say === "beep") this.tones([440 * 2 ** (index / 4)]);
    this.buzz(Array.from({ length: 2 * index + 1 }, () => PULSE_MS));
  }

  unsure() {
    if (this.settings.say === "speak") this.speak("not sure");
    if (this.settings.say === "beep") this.tones([220, 220]);
    this.buzz([PULSE_MS * 4]);
  }

  // A new word cuts off one still being said: the newest view is what matters.
  speak(text) {
    if (!("speechSynthesis" in self)) return;
    speechSynthesis.cancel();
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = document.documentElement.lang || navigator.language;
    utterance.rate = this.settings.rate;
    speechSynthesis.speak(utterance);
  }

  buzz(pattern) {
    if (this.settings.vibrate && "vibrate" in navigator) navigator.vibrate(pattern);
  }

  tones(frequencies) {
    this.audio ??= audioContext();
    if (!this.audio) return;
    const start = this.audio.currentTime;
    frequencies.forEach((frequency, i) => {
      const oscillator = this.audio.createOscillator(), gain = this.audio.createGain();
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.25, start + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.001, start + i * 0.18 + 0.15);
      oscillator.connect(gain).connect(this.audio.destination);
      oscillator.start(start + i * 0.18);
      oscillator.stop(start + i * 0.18 + 0.16);
    });
  }

  // Browsers let a page make sound only after a tap: Start is that tap.
  wake() {
    if (this.settings.say !== "beep") return;
    this.audio ??= audioContext();
    this.audio?.resume?.();
  }
}

function audioContext() {
  const Context = self.AudioContext || self.webkitAudioContext;
  return Context ? new Context() : null;
}
