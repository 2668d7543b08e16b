// The convolution-layer explorer of cnnutils.course.explorer: plain JavaScript, no dependencies, no
// network. It defines window.cnnConvExplorer once per page (the newest version wins) and mounts
// one explorer per call of mount(root, config); any number of explorers can share a page.
//
// compute(params) is a pure function, the JavaScript twin of cnnutils.geometry.conv2d_cost,
// cnnutils.geometry.conv_output_size, window_taps and untouched_indices; the tests compare them.
(function () {
  "use strict";
  var VERSION = 1;
  if (window.cnnConvExplorer && window.cnnConvExplorer.version >= VERSION) return;

  var NAMES = [
    "height", "width", "in_channels", "kernel_size", "stride", "padding", "dilation",
    "out_channels", "groups",
  ];
  var MINIMUM = {
    height: 1, width: 1, in_channels: 1, kernel_size: 1, stride: 1, padding: 0, dilation: 1,
    out_channels: 1, groups: 1,
  };
  var SYMBOL = {
    height: "H", width: "W", in_channels: "C_in", kernel_size: "K", stride: "S", padding: "P",
    dilation: "D", out_channels: "C_out", groups: "G",
  };

  // ----------------------------------------------------------------------------------------
  // The arithmetic (pure)
  // ----------------------------------------------------------------------------------------

  function fmt(n) {
    // 1234567 -> "1,234,567", the same on every machine and locale.
    var s = String(Math.abs(n)), out = "";
    while (s.length > 3) {
      out = "," + s.slice(-3) + out;
      s = s.slice(0, -3);
    }
    return (n < 0 ? "−" : "") + s + out;
  }

  function plural(n, one, many) {
    return n === 1 ? one : many;
  }

  // [0, 1, 2, 5, 7, 8] -> "0–2, 5, 7–8"; long lists are cut after `maxRuns` runs.
  function formatIndices(indices, maxRuns) {
    maxRuns = maxRuns || 8;
    var runs = [];
    for (var i = 0; i < indices.length; i++) {
      var last = runs[runs.length - 1];
      if (last && indices[i] === last[1] + 1) last[1] = indices[i];
      else runs.push([indices[i], indices[i]]);
    }
    var text = runs.slice(0, maxRuns).map(function (r) {
      return r[0] === r[1] ? String(r[0]) : r[0] + "–" + r[1];
    }).join(", ");
    if (runs.length > maxRuns) text += ", … (" + fmt(indices.length) + " in all)";
    return text;
  }

  // One axis: output size, the taps of every window, what is never read.
  function axis(size, k, s, p, d) {
    var kEff = d * (k - 1) + 1;
    var numerator = size + 2 * p - kEff; // = H + 2P − D(K − 1) − 1
    var out = Math.floor(numerator / s) + 1;
    var taps = [], first = [];
    for (var r = 0; r < size + 2 * p; r++) first.push(Infinity);
    for (var i = 0; i < out; i++) {
      var window_ = [];
      for (var a = 0; a < k; a++) {
        var t = s * i - p + d * a;
        window_.push(t);
        if (first[t + p] === Infinity) first[t + p] = i;
      }
      taps.push(window_);
    }
    var lastTap = taps[out - 1][k - 1];
    var neverRead = [], dropped = [], gaps = [];
    for (var q = 0; q < size; q++) {
      if (first[q + p] !== Infinity) continue;
      neverRead.push(q);
      if (q > lastTap) dropped.push(q);
      else gaps.push(q);
    }
    return {
      size: size, padded: size + 2 * p, k_eff: kEff, numerator: numerator, out: out,
      remainder: numerator % s, taps: taps, first: first,
      never_read: neverRead, dropped: dropped, gaps: gaps,
    };
  }

  function formulaText(sym, size, k, s, p, d, ax) {
    return sym + " = ⌊(" + size + " + 2·" + p + " − " + d + "·(" + k + " − 1) − 1) / " + s +
      "⌋ + 1 = ⌊" + ax.numerator + " / " + s + "⌋ + 1 = " + ax.out;
  }

  function warningText(noun, ax, s) {
    // Why the floor matters along one axis; null when the stride divides evenly.
    if (ax.remainder === 0) return null;
    var sym = noun === "row" ? "H" : "W";
    var nouns = noun + "s";
    var head = nouns + ": stride " + s + " does not divide " + sym + " + 2P − D(K − 1) − 1 = " +
      ax.numerator + " (remainder " + ax.remainder + "): the last " +
      (ax.remainder === 1 ? noun : ax.remainder + " " + nouns) + " of the padded input " +
      plural(ax.remainder, "is", "are") + " skipped";
    var padding = ax.remainder - ax.dropped.length;
    if (ax.dropped.length === 0) {
      return head + ", but " + plural(ax.remainder, "it is", "they are") +
        " zero padding: no input " + noun + " is lost.";
    }
    var note = padding > 0 ? " (" + padding + " of them padding)" : "";
    return head + note + ", so input " + plural(ax.dropped.length, noun, nouns) + " " +
      formatIndices(ax.dropped) + " " + plural(ax.dropped.length, "is", "are") +
      " never read.";
  }

  function gapText(noun, ax) {
    if (ax.gaps.length === 0) return null;
    var nouns = noun + "s";
    return nouns + ": input " + plural(ax.gaps.length, noun, nouns) + " " + formatIndices(ax.gaps) + " " +
      plural(ax.gaps.length, "falls", "fall") + " between the dilated taps of every window " +
      "and " + plural(ax.gaps.length, "is", "are") + " never read.";
  }

  function isInt(v) {
    return typeof v === "number" && Number.isInteger(v);
  }

  // The JavaScript twin of conv2d_cost + conv_output_size + window_taps + untouched_indices.
  // params: {height, width, in_channels, kernel_size, stride, padding, dilation, out_channels,
  // groups = 1, bias = true}. Returns {ok: false, error} for settings PyTorch rejects.
  function compute(params) {
    var p = {};
    for (var n = 0; n < NAMES.length; n++) {
      var name = NAMES[n];
      var v = params[name];
      if (v === undefined && name === "groups") v = 1;
      if (!isInt(v)) {
        return { ok: false, error: name + " " + SYMBOL[name] + " must be a whole number, got " +
          String(v) + "." };
      }
      if (v < MINIMUM[name]) {
        return { ok: false, error: name + " " + SYMBOL[name] + " must be at least " +
          MINIMUM[name] + ", got " + v + "." };
      }
      p[name] = v;
    }
    var bias = params.bias === undefined ? true : params.bias;
    if (typeof bias !== "boolean") return { ok: false, error: "bias must be true or false." };
    var g = p.groups;
    if (p.in_channels % g || p.out_channels % g) {
      return { ok: false, error: "groups G = " + g + " must divide both C_in = " +
        p.in_channels + " and C_out = " + p.out_channels + "." };
    }
    var kEff = p.dilation * (p.kernel_size - 1) + 1;
    var fits = [["height", "H", "rows", p.height], ["width", "W", "columns", p.width]];
    for (var f = 0; f < fits.length; f++) {
      var padded = fits[f][3] + 2 * p.padding;
      if (kEff > padded) {
        return {
          ok: false,
          error: "The kernel does not fit: dilated, it spans D(K − 1) + 1 = " + p.dilation +
            "·(" + p.kernel_size + " − 1) + 1 = " + kEff + " " + fits[f][2] + ", but the padded " +
            fits[f][0] + " is only " + fits[f][1] + " + 2P = " + fits[f][3] + " + 2·" +
            p.padding + " = " + padded + ". There is no output (PyTorch raises an error).",
        };
      }
    }
    var rows = axis(p.height, p.kernel_size, p.stride, p.padding, p.dilation);
    var cols = axis(p.width, p.kernel_size, p.stride, p.padding, p.dilation);
    var weightShape = [p.out_channels, p.in_channels / g, p.kernel_size, p.kernel_size];
    var weights = weightShape[0] * weightShape[1] * weightShape[2] * weightShape[3];
    var biases = bias ? p.out_channels : 0;
    var warnings = [warningText("row", rows, p.stride), warningText("column", cols, p.stride)]
      .filter(Boolean);
    var gaps = [gapText("row", rows), gapText("column", cols)].filter(Boolean);
    return {
      ok: true,
      error: null,
      params: Object.assign({}, p, { bias: bias }),
      k_eff: kEff,
      padded_shape: [rows.padded, cols.padded],
      in_shape: [p.in_channels, p.height, p.width],
      out_shape: [p.out_channels, rows.out, cols.out],
      weight_shape: weightShape,
      weights: weights,
      biases: biases,
      parameters: weights + biases,
      multiply_adds: weights * rows.out * cols.out,
      numerator: [rows.numerator, cols.numerator],
      remainder: [rows.remainder, cols.remainder],
      divisible: rows.remainder === 0 && cols.remainder === 0,
      formula: [
        formulaText("H_out", p.height, p.kernel_size, p.stride, p.padding, p.dilation, rows),
        formulaText("W_out", p.width, p.kernel_size, p.stride, p.padding, p.dilation, cols),
      ],
      warning: warnings.length ? warnings.map(capitalise).join(" ") : null,
      warnings: warnings.map(capitalise),
      gap_note: gaps.length ? gaps.map(capitalise).join(" ") : null,
      gaps_text: gaps.map(capitalise),
      never_read: { rows: rows.never_read, cols: cols.never_read },
      dropped: { rows: rows.dropped, cols: cols.dropped },
      gaps: { rows: rows.gaps, cols: cols.gaps },
      row_taps: rows.taps,
      col_taps: cols.taps,
      positions: rows.out * cols.out,
      _rows: rows,
      _cols: cols,
    };
  }

  function capitalise(text) {
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  // What cell (r, q) of the padded input shows at output position `position` (row-major):
  // "tap" (read now), "pad" (zero padding), "never" (no position reads it), "read" (read by an
  // earlier position) or "unread" (read later). Rows and columns count from the real input's
  // top-left corner, so padding has negative indices or indices >= H, W.
  function cellState(result, position, r, q) {
    var rows = result._rows, cols = result._cols, p = result.params.padding;
    var wOut = cols.out, i = Math.floor(position / wOut), j = position % wOut;
    var inRow = rows.taps[i].indexOf(r) >= 0, inCol = cols.taps[j].indexOf(q) >= 0;
    if (inRow && inCol) return "tap";
    if (r < 0 || r >= rows.size || q < 0 || q >= cols.size) return "pad";
    var rowFirst = rows.first[r + p], colFirst = cols.first[q + p];
    if (rowFirst === Infinity || colFirst === Infinity) return "never";
    if (rowFirst < i || (inRow && colFirst < j)) return "read";
    return "unread";
  }

  // ----------------------------------------------------------------------------------------
  // The explorer on the page
  // ----------------------------------------------------------------------------------------

  var LABELS = {
    height: ["height", "H"], width: ["width", "W"], in_channels: ["channels", "C_in"],
    kernel_size: ["kernel", "K"], stride: ["stride", "S"], padding: ["padding", "P"],
    dilation: ["dilation", "D"], out_channels: ["filters", "C_out"], groups: ["groups", "G"],
  };
  var GROUPS = [
    ["input", ["height", "width", "in_channels"]],
    ["layer", ["kernel_size", "stride", "padding", "dilation", "out_channels", "groups"]],
  ];
  var SPEEDS = [["slow", 1000], ["normal", 450], ["fast", 120], ["fastest", 16]];

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function markup(id, config) {
    var h = [];
    h.push('<div class="cce-head"><span class="cce-title">Convolution layer explorer</span>' +
      '<span class="cce-sub">runs in your browser, no Python kernel</span></div>');
    h.push('<div class="cce-controls">');
    GROUPS.forEach(function (group) {
      h.push('<fieldset class="cce-group"><legend>' + group[0] + "</legend>");
      group[1].forEach(function (name) {
        var lim = config.limits[name];
        h.push('<label class="cce-field" for="' + id + "-" + name + '"><span>' + LABELS[name][0] +
          ' <i>' + LABELS[name][1] + "</i></span>" +
          '<input type="number" inputmode="numeric" id="' + id + "-" + name + '" data-param="' +
          name + '" min="' + lim[0] + '" max="' + lim[1] + '" step="1"></label>');
      });
      if (group[0] === "layer") {
        h.push('<label class="cce-field cce-check" for="' + id + '-bias"><span>bias</span>' +
          '<input type="checkbox" id="' + id + '-bias" data-param="bias"></label>');
      }
      h.push("</fieldset>");
    });
    if (config.presets && config.presets.length) {
      h.push('<label class="cce-field cce-preset" for="' + id + '-preset"><span>try</span>' +
        '<select id="' + id + '-preset" data-role="preset"><option value="">a preset…</option>');
      config.presets.forEach(function (preset, index) {
        h.push('<option value="' + index + '">' + escapeHtml(preset.name) + "</option>");
      });
      h.push("</select></label>");
    }
    h.push("</div>");
    h.push('<div class="cce-results" aria-live="polite">' +
      '<div class="cce-row"><span class="cce-key">output</span><span class="cce-val">' +
      '<b data-out="shape"></b> <span class="cce-dim" data-out="shape-note"></span></span></div>' +
      '<div class="cce-row"><span class="cce-key"></span><span class="cce-val cce-formula" ' +
      'data-out="formula"></span></div>' +
      '<div class="cce-row"><span class="cce-key">parameters</span><span class="cce-val" ' +
      'data-out="params"></span></div>' +
      '<div class="cce-row"><span class="cce-key">multiply-adds</span><span class="cce-val" ' +
      'data-out="macs"></span></div>' +
      '<div class="cce-box cce-warning" data-out="warning" role="status" hidden></div>' +
      '<div class="cce-box cce-note" data-out="gaps" hidden></div>' +
      '<div class="cce-box cce-error" data-out="error" role="alert" hidden></div>' +
      "</div>");
    h.push('<div class="cce-anim" data-out="anim">' +
      '<div class="cce-caption" data-out="anim-caption"></div>' +
      '<div class="cce-canvases">' +
      '<figure><canvas data-out="input-canvas" role="img"></canvas>' +
      '<figcaption data-out="input-caption"></figcaption></figure>' +
      '<figure><canvas data-out="output-canvas" role="img"></canvas>' +
      '<figcaption data-out="output-caption"></figcaption></figure></div>' +
      '<div class="cce-player">' +
      '<button type="button" data-action="first" title="first position">« first</button>' +
      '<button type="button" data-action="back" title="step back">◀ step</button>' +
      '<button type="button" data-action="play" class="cce-play">▶ play</button>' +
      '<button type="button" data-action="step" title="step forward">step ▶</button>' +
      '<button type="button" data-action="last" title="last position">last »</button>' +
      '<input type="range" data-role="scrub" min="0" max="0" value="0" ' +
      'aria-label="output position">' +
      '<select data-role="speed" aria-label="speed">' +
      SPEEDS.map(function (s, index) {
        return '<option value="' + s[1] + '"' + (index === 1 ? " selected" : "") + ">" + s[0] +
          "</option>";
      }).join("") +
      "</select></div>" +
      '<div class="cce-position" data-out="position"></div>' +
      '<div class="cce-legend">' +
      '<span><i class="cce-sw" data-swatch="unread"></i>input</span>' +
      '<span><i class="cce-sw" data-swatch="read"></i>read before</span>' +
      '<span><i class="cce-sw" data-swatch="tap"></i>read now (the taps)</span>' +
      '<span><i class="cce-sw" data-swatch="pad"></i>zero padding</span>' +
      '<span><i class="cce-sw" data-swatch="never"></i>never read</span>' +
      '<span><i class="cce-sw" data-swatch="out"></i>output computed</span>' +
      "</div></div>");
    return h.join("");
  }

  function luminance(color) {
    var m = /rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)/.exec(color || "");
    if (!m) return 0;
    return (0.2126 * m[1] + 0.7152 * m[2] + 0.0722 * m[3]) / 255;
  }

  function mount(root, config) {
    if (!root) return null;
    if (root._cceExplorer) root._cceExplorer.destroy();
    var id = root.id || "cnn-conv-explorer";
    (root.querySelector(".cce-mount") || root).innerHTML = markup(id, config);
    root.setAttribute("data-ready", "true");
    var $ = function (sel) { return root.querySelector(sel); };
    var inputs = {};
    root.querySelectorAll("[data-param]").forEach(function (el) {
      inputs[el.getAttribute("data-param")] = el;
    });
    var state = { result: null, position: 0, timer: null };

    function setValues(values) {
      NAMES.forEach(function (name) {
        if (values[name] !== undefined) inputs[name].value = String(values[name]);
      });
      if (values.bias !== undefined) inputs.bias.checked = !!values.bias;
    }

    function readParams() {
      var params = { bias: inputs.bias.checked };
      for (var n = 0; n < NAMES.length; n++) {
        var name = NAMES[n], raw = inputs[name].value.trim(), lim = config.limits[name];
        var v = raw === "" ? NaN : Number(raw);
        if (!isInt(v) || v < lim[0] || v > lim[1]) {
          return { error: LABELS[name][0] + " " + LABELS[name][1] + " must be a whole number " +
            "from " + lim[0] + " to " + lim[1] + (raw === "" ? "." : ', not "' + raw + '".') };
        }
        params[name] = v;
      }
      return { params: params };
    }

    function show(sel, text) {
      var el = $(sel);
      el.textContent = text || "";
      el.hidden = !text;
    }

    function showLines(sel, lines) {
      var el = $(sel);
      el.textContent = "";
      lines.forEach(function (line, index) {
        var div = document.createElement("div");
        div.textContent = line;
        if (index === 0) div.className = "cce-lead";
        el.appendChild(div);
      });
      el.hidden = lines.length === 0;
    }

    function update() {
      pause();
      var read = readParams();
      var result = read.error ? { ok: false, error: read.error } : compute(read.params);
      state.result = result;
      state.position = 0;
      root.classList.toggle("cce-invalid", !result.ok);
      show('[data-out="error"]', result.ok ? null : "✖ " + result.error);
      if (!result.ok) {
        $('[data-out="shape"]').textContent = "—";
        $('[data-out="shape-note"]').textContent = "";
        showLines('[data-out="formula"]', ["—"]);
        $('[data-out="params"]').textContent = "—";
        $('[data-out="macs"]').textContent = "—";
        showLines('[data-out="warning"]', []);
        showLines('[data-out="gaps"]', []);
        $('[data-out="anim"]').hidden = true;
        root.setAttribute("data-position", "");
        root.setAttribute("data-positions", "0");
        return;
      }
      var p = result.params, o = result.out_shape, w = result.weight_shape;
      $('[data-out="shape"]').textContent = o[0] + " × " + o[1] + " × " + o[2];
      $('[data-out="shape-note"]').textContent = "(C_out × H_out × W_out) from an input of " +
        p.in_channels + " × " + p.height + " × " + p.width;
      var lines = ["H_out = ⌊(H + 2P − D(K − 1) − 1) / S⌋ + 1, W_out likewise"];
      if (p.height === p.width) lines.push("H_out = W_out" + result.formula[0].slice(5));
      else lines = lines.concat(result.formula);
      showLines('[data-out="formula"]', lines);
      var perFilter = w[1] + " × " + w[2] + " × " + w[3];
      $('[data-out="params"]').textContent = fmt(result.parameters) + " = " + fmt(w[0]) + " " +
        plural(w[0], "filter", "filters") + " × " + perFilter + " weights" +
        (p.groups > 1 ? " (C_in / G = " + w[1] + ")" : "") +
        (result.biases ? " + " + fmt(result.biases) + " " + plural(result.biases, "bias",
          "biases") : ", no biases");
      $('[data-out="macs"]').textContent = fmt(result.multiply_adds) + " per image = " +
        fmt(o[1] * o[2]) + " positions × " + fmt(result.weights) + " weights (" +
        fmt(2 * result.multiply_adds) + " FLOPs)";
      showLines('[data-out="warning"]', result.warning ?
        ["⚠ The stride does not divide evenly, and the floor drops the rest."]
          .concat(result.warnings) : []);
      showLines('[data-out="gaps"]', result.gap_note ?
        ["ℹ Some inputs fall between the dilated taps."].concat(result.gaps_text) : []);
      $('[data-out="anim"]').hidden = false;
      $('[data-out="anim-caption"]').textContent = "The window sliding over one channel of the " +
        "padded input (" + result.padded_shape[0] + " × " + result.padded_shape[1] +
        "); every channel of the filter's group is read at the same places, and each position " +
        "gives one value in each of the " + fmt(o[0]) + " output maps.";
      $('[data-out="input-caption"]').textContent = "input channel 1 of " + p.in_channels +
        (p.padding ? ", with padding " + p.padding : "");
      $('[data-out="output-caption"]').textContent = "output map 1 of " + o[0] + " (" + o[1] +
        " × " + o[2] + ")";
      var scrub = $('[data-role="scrub"]');
      scrub.max = String(result.positions - 1);
      root.setAttribute("data-positions", String(result.positions));
      goTo(0);
    }

    function goTo(position) {
      var result = state.result;
      if (!result || !result.ok) return;
      position = Math.max(0, Math.min(result.positions - 1, position));
      state.position = position;
      var wOut = result.out_shape[2];
      var i = Math.floor(position / wOut), j = position % wOut;
      var text = "output (" + i + ", " + j + ") · position " + fmt(position + 1) + " of " +
        fmt(result.positions) + " · reads input rows " + formatIndices(result.row_taps[i], 4) +
        " and columns " + formatIndices(result.col_taps[j], 4);
      $('[data-out="position"]').textContent = text;
      $('[data-role="scrub"]').value = String(position);
      root.setAttribute("data-position", String(position));
      draw();
    }

    function colors() {
      var style = getComputedStyle(root);
      var get = function (name) { return style.getPropertyValue("--cce-" + name).trim(); };
      return {
        unread: get("cell"), read: get("read"), tap: get("tap"), pad: get("pad"),
        padText: get("pad-text"), never: get("never"), grid: get("grid"), window: get("window"),
        edge: get("edge"), out: get("out"), outEmpty: get("out-empty"), current: get("current"),
        label: get("label"),
      };
    }

    function setupCanvas(canvas, cssWidth, cssHeight) {
      var ratio = window.devicePixelRatio || 1;
      canvas.style.width = cssWidth + "px";
      canvas.style.height = cssHeight + "px";
      canvas.width = Math.round(cssWidth * ratio);
      canvas.height = Math.round(cssHeight * ratio);
      var ctx = canvas.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.clearRect(0, 0, cssWidth, cssHeight);
      return ctx;
    }

    function draw() {
      var result = state.result;
      if (!result || !result.ok) return;
      var c = colors(), p = result.params, pad = p.padding;
      var hp = result.padded_shape[0], wp = result.padded_shape[1];
      var cell = Math.max(2, Math.min(30, Math.floor(330 / Math.max(hp, wp))));
      var labels = cell >= 14, margin = labels ? 18 : 0;
      var canvas = $('[data-out="input-canvas"]');
      var ctx = setupCanvas(canvas, margin + wp * cell + 1, margin + hp * cell + 1);
      var x0 = margin + 0.5, y0 = margin + 0.5;
      var wOut = result.out_shape[2], position = state.position;
      var i = Math.floor(position / wOut), j = position % wOut;
      var lines = cell >= 6;
      ctx.font = Math.max(8, Math.min(12, cell - 6)) + "px sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      for (var r = -pad; r < p.height + pad; r++) {
        for (var q = -pad; q < p.width + pad; q++) {
          var kind = cellState(result, position, r, q);
          var x = x0 + (q + pad) * cell, y = y0 + (r + pad) * cell;
          var isPad = r < 0 || r >= p.height || q < 0 || q >= p.width;
          ctx.fillStyle = kind === "tap" ? c.tap : kind === "read" ? c.read :
            kind === "pad" ? c.pad : c.unread;
          ctx.fillRect(x, y, cell, cell);
          if (kind === "never" && cell >= 4) { // hatched: an input value nothing reads
            ctx.save();
            ctx.beginPath();
            ctx.rect(x, y, cell, cell);
            ctx.clip();
            ctx.strokeStyle = c.never;
            ctx.lineWidth = Math.max(1, cell / 10);
            ctx.beginPath();
            for (var t = -cell; t < cell; t += Math.max(4, cell / 3)) {
              ctx.moveTo(x + t, y + cell);
              ctx.lineTo(x + t + cell, y);
            }
            ctx.stroke();
            ctx.restore();
          }
          if (lines) {
            ctx.strokeStyle = c.grid;
            ctx.lineWidth = 1;
            ctx.strokeRect(x, y, cell, cell);
          }
          if (isPad && cell >= 14) {
            ctx.fillStyle = c.padText;
            ctx.fillText("0", x + cell / 2, y + cell / 2 + 1);
          }
        }
      }
      if (pad) { // the real input, inside the padding
        ctx.strokeStyle = c.edge;
        ctx.lineWidth = 1.5;
        ctx.strokeRect(x0 + pad * cell, y0 + pad * cell, p.width * cell, p.height * cell);
      }
      var span = result.k_eff;
      ctx.strokeStyle = c.window;
      ctx.lineWidth = 2.5;
      ctx.strokeRect(x0 + (result.col_taps[j][0] + pad) * cell,
        y0 + (result.row_taps[i][0] + pad) * cell, span * cell, span * cell);
      if (labels) { // real row and column indices, 0 at the input's top-left corner
        ctx.fillStyle = c.label;
        ctx.font = "10px sans-serif";
        for (var rr = 0; rr < p.height; rr++) {
          ctx.fillText(String(rr), margin / 2, y0 + (rr + pad + 0.5) * cell);
        }
        for (var qq = 0; qq < p.width; qq++) {
          ctx.fillText(String(qq), x0 + (qq + pad + 0.5) * cell, margin / 2);
        }
      }
      canvas.setAttribute("aria-label", "padded input, window at output (" + i + ", " + j + ")");

      var hOut = result.out_shape[1];
      var oc = Math.max(2, Math.min(30, Math.floor(220 / Math.max(hOut, wOut))));
      var out = $('[data-out="output-canvas"]');
      var octx = setupCanvas(out, margin + wOut * oc + 2, margin + hOut * oc + 2);
      var ox = margin + 1, oy = margin + 1;
      for (var a = 0; a < hOut; a++) {
        for (var b = 0; b < wOut; b++) {
          octx.fillStyle = a * wOut + b <= position ? c.out : c.outEmpty;
          octx.fillRect(ox + b * oc, oy + a * oc, oc, oc);
          if (oc >= 6) {
            octx.strokeStyle = c.grid;
            octx.lineWidth = 1;
            octx.strokeRect(ox + b * oc + 0.5, oy + a * oc + 0.5, oc - 1, oc - 1);
          }
        }
      }
      octx.strokeStyle = c.current;
      octx.lineWidth = 2;
      octx.strokeRect(ox + j * oc, oy + i * oc, oc, oc);
      if (labels && oc >= 14) {
        octx.fillStyle = c.label;
        octx.font = "10px sans-serif";
        octx.textAlign = "center";
        octx.textBaseline = "middle";
        for (var aa = 0; aa < hOut; aa++) octx.fillText(String(aa), margin / 2, oy + (aa + 0.5) * oc);
        for (var bb = 0; bb < wOut; bb++) octx.fillText(String(bb), ox + (bb + 0.5) * oc, margin / 2);
      }
      out.setAttribute("aria-label", "output map, position (" + i + ", " + j + ")");
      var swatches = { unread: c.unread, read: c.read, tap: c.tap, pad: c.pad, never: c.never,
        out: c.out };
      swatches.never = "repeating-linear-gradient(135deg, " + c.never + " 0 2px, " + c.unread +
        " 2px 5px)";
      root.querySelectorAll("[data-swatch]").forEach(function (el) {
        el.style.background = swatches[el.getAttribute("data-swatch")];
      });
    }

    function playing() { return state.timer !== null; }

    function pause() {
      if (state.timer !== null) clearInterval(state.timer);
      state.timer = null;
      var button = $('[data-action="play"]');
      if (button) button.textContent = "▶ play";
      root.setAttribute("data-playing", "false");
    }

    function play() {
      var result = state.result;
      if (!result || !result.ok || playing()) return;
      if (state.position >= result.positions - 1) goTo(0);
      var interval = Number($('[data-role="speed"]').value) || 450;
      state.timer = setInterval(function () {
        if (!root.isConnected) { pause(); return; }
        if (state.position >= state.result.positions - 1) { pause(); return; }
        goTo(state.position + 1);
        if (state.position >= state.result.positions - 1) pause();
      }, interval);
      $('[data-action="play"]').textContent = "⏸ pause";
      root.setAttribute("data-playing", "true");
    }

    function setDark() {
      // Dark pages that the stylesheet's selectors do not know: judge by the text colour.
      root.removeAttribute("data-dark");
      if (luminance(getComputedStyle(root).color) > 0.6) root.setAttribute("data-dark", "true");
    }

    root.addEventListener("input", function (event) {
      var target = event.target;
      if (target.hasAttribute("data-param")) {
        var preset = $('[data-role="preset"]');
        if (preset) preset.value = "";
        update();
      } else if (target.getAttribute("data-role") === "scrub") {
        pause();
        goTo(Number(target.value));
      }
    });
    root.addEventListener("change", function (event) {
      var target = event.target;
      if (target.getAttribute("data-param") === "bias") update();
      else if (target.getAttribute("data-role") === "preset" && target.value !== "") {
        setValues(config.presets[Number(target.value)].values);
        update();
      } else if (target.getAttribute("data-role") === "speed" && playing()) {
        pause();
        play();
      }
    });
    root.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("[data-action]") : null;
      if (!button || !root.contains(button)) return;
      var action = button.getAttribute("data-action");
      if (action === "play") { if (playing()) pause(); else play(); return; }
      pause();
      if (action === "step") goTo(state.position + 1);
      else if (action === "back") goTo(state.position - 1);
      else if (action === "first") goTo(0);
      else if (action === "last" && state.result && state.result.ok) {
        goTo(state.result.positions - 1);
      }
    });
    var observer = null;
    if (window.MutationObserver) {
      observer = new MutationObserver(function () { setDark(); draw(); });
      observer.observe(document.documentElement, { attributes: true,
        attributeFilter: ["data-theme", "data-mode", "class", "theme"] });
      if (document.body) {
        observer.observe(document.body, { attributes: true,
          attributeFilter: ["data-jp-theme-light", "class", "theme"] });
      }
    }

    var api = {
      root: root,
      update: update,
      goTo: goTo,
      play: play,
      pause: pause,
      playing: playing,
      position: function () { return state.position; },
      result: function () { return state.result; },
      set: function (values) { setValues(values); update(); },
      destroy: function () { pause(); if (observer) observer.disconnect(); },
    };
    root._cceExplorer = api;
    window.cnnConvExplorer.instances[id] = api;
    setValues(config.values);
    setDark();
    update();
    return api;
  }

  var previous = window.cnnConvExplorer;
  window.cnnConvExplorer = {
    version: VERSION,
    compute: compute,
    cellState: cellState,
    formatIndices: formatIndices,
    mount: mount,
    instances: previous && previous.instances ? previous.instances : {},
  };
})();
