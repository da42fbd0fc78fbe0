// 守望 offline: registers the service worker; keeps on the phone the children due a visit and a
// queue of what was recorded without a signal; sends the queue when the phone is back online —
// each visit once (its Idempotency-Key), each change to a file by a three-way merge whose
// conflicts the person resolves here (never overwriting what someone else changed).
(function () {
  'use strict';
  var QUEUE = 'shouwang.queue';
  var PACK = 'shouwang.pack';
  var FIELDS = { guardian_phone: '监护人电话', schooling: '就学情况', father_phone: '父亲电话', mother_phone: '母亲电话' };
  var KINDS = [['home', '入户走访'], ['call', '电话或视频'], ['school', '到校了解'], ['other', '其他方式']];
  var CONDITIONS = [['good', '良好'], ['fair', '一般'], ['concern', '需要关注'], ['danger', '面临危险']];

  function load(k, d) { try { return JSON.parse(localStorage.getItem(k)) || d; } catch (e) { return d; } }
  function save(k, v) { localStorage.setItem(k, JSON.stringify(v)); }
  function queue() { return load(QUEUE, []); }
  function uuid() {
    if (self.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
  }
  function el(tag, attrs, children) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') n.textContent = attrs[k]; else n.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) n.appendChild(c); });
    return n;
  }
  function say(msg) {
    var s = document.getElementById('sync-status');
    if (s) s.textContent = msg;
  }
  function today() {
    var d = new Date();
    return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0');
  }

  function enqueue(items) {
    var q = queue();
    items.forEach(function (i) { i.key = i.key || uuid(); i.at = new Date().toISOString(); q.push(i); });
    save(QUEUE, q);
    showQueue();
  }

  function send(item) {
    var post = function (url, body, extra) {
      var headers = { 'content-type': 'application/json' };
      Object.keys(extra || {}).forEach(function (k) { headers[k] = extra[k]; });
      return fetch(url, { method: 'POST', credentials: 'same-origin', headers: headers, body: JSON.stringify(body) });
    };
    if (item.type === 'visit') return post('/api/v1/visits', item.body, { 'idempotency-key': item.key });
    return post('/api/v1/children/' + encodeURIComponent(item.child_id) + '/offline-edits',
      { base: item.base, changes: item.changes });
  }

  var flushing = false;
  async function flush() {
    if (flushing || !navigator.onLine) return;
    flushing = true;
    try {
      var q = queue();
      var left = [];
      var sent = 0;
      var toReport = [];
      var retry = false;
      for (var i = 0; i < q.length; i++) {
        var item = q[i];
        if (item.conflicts) { left.push(item); continue; }
        var r;
        try { r = await send(item); } catch (e) {
          // No way through yet (the signal comes back before the network does): try again soon.
          left = left.concat(q.slice(i));
          retry = true;
          break;
        }
        if (r.status === 200 || r.status === 201) {
          sent++;
          if (item.type === 'visit' && item.body.reportable) {
            var v = await r.json().catch(function () { return {}; });
            toReport.push({ name: item.name, href: '/reports/new?child_id=' + encodeURIComponent(item.body.child_id) + '&visit_id=' + encodeURIComponent(v.id || '') });
          }
          continue;
        }
        var body = await r.json().catch(function () { return {}; });
        if (r.status === 401) {
          left = left.concat(q.slice(i));
          say('请先登录；离线记录会在登录后自动发送');
          break;
        }
        if (r.status === 409 && item.type === 'edit' && body.conflicts) item.conflicts = body.conflicts;
        else item.error = body.message || ('发送失败（' + r.status + '）');
        left.push(item);
      }
      save(QUEUE, left);
      if (retry) setTimeout(flush, 3000);
      if (sent) say('已发送 ' + sent + ' 条离线记录');
      var status = document.getElementById('sync-status');
      if (status) toReport.forEach(function (t) {
        status.appendChild(el('a', { class: 'report-now', href: t.href, text: ' 立即为' + t.name + '填写强制报告' }));
      });
      else if (!left.length && q.length === 0) say('');
      showQueue();
    } finally {
      flushing = false;
    }
  }

  function showQueue() {
    var box = document.getElementById('offline-queue');
    if (!box) return;
    var q = queue();
    box.textContent = '';
    if (!q.length) return;
    box.appendChild(el('h2', { text: '手机上待发送的记录（' + q.length + '）' }));
    q.forEach(function (item, n) {
      var what = item.type === 'visit' ? '走访：' + (item.name || '') + ' ' + (item.body.note || '') : '修改档案：' + (item.name || '');
      var li = el('div', { class: 'queued' + (item.conflicts ? ' conflict' : '') }, [el('p', { text: what })]);
      if (item.error) li.appendChild(el('p', { class: 'error', text: item.error }));
      (item.conflicts || []).forEach(function (c) {
        var label = FIELDS[c.field] || c.field;
        var row = el('div', { class: 'conflict-field' }, [
          el('p', { text: label + '：离线前为“' + (c.base || '空') + '”，他人已改为“' + (c.theirs || '空') + '”，您改为“' + (c.mine || '空') + '”' }),
        ]);
        var theirs = el('button', { type: 'button', class: 'keep-theirs', text: '保留他人的修改' });
        var mine = el('button', { type: 'button', class: 'use-mine', text: '用我的修改' });
        theirs.onclick = function () { resolve(n, c.field, false); };
        mine.onclick = function () { resolve(n, c.field, true); };
        row.appendChild(theirs);
        row.appendChild(mine);
        li.appendChild(row);
      });
      box.appendChild(li);
    });
  }

  // A conflict settled by the person: their value kept (the change dropped), or mine sent again
  // over what the other person wrote (the base becomes what they saw now).
  function resolve(n, field, useMine) {
    var q = queue();
    var item = q[n];
    if (!item || !item.conflicts) return;
    var c = item.conflicts.filter(function (x) { return x.field === field; })[0];
    if (useMine) item.base[field] = c.theirs; else delete item.changes[field];
    item.conflicts = item.conflicts.filter(function (x) { return x.field !== field; });
    if (!item.conflicts.length) delete item.conflicts;
    if (!Object.keys(item.changes).length) q.splice(n, 1);
    save(QUEUE, q);
    showQueue();
    flush();
  }

  // The offline page: the children kept on the phone, a line each (the overdue first), found by
  // name and shown a page at a time; a child's visit form opens under their line.
  var PAGE = 20;
  function showPack() {
    var box = document.getElementById('offline-pack');
    if (!box) return;
    var pack = load(PACK, null);
    box.textContent = '';
    if (!pack) {
      box.appendChild(el('p', { text: '手机上还没有走访名单。请在有网络时打开“走访”页面，名单会自动保存到手机上。' }));
      return;
    }
    var late = pack.items.filter(function (c) { return c.overdue; }).length;
    box.appendChild(el('p', { class: 'sub', text: '名单保存于 ' + pack.saved + '，共 ' + pack.items.length + ' 名待走访儿童' + (late ? '，其中已逾期 ' + late + ' 名' : '') + '。点姓名填写走访记录。' }));
    var find = el('input', { type: 'search', placeholder: '按姓名查找', 'aria-label': '按姓名查找' });
    box.appendChild(el('label', { class: 'offline-find' }, [find]));
    var list = el('div', { class: 'offline-list' });
    var more = el('button', { type: 'button', class: 'secondary offline-more' });
    box.appendChild(list);
    box.appendChild(more);
    var shown = PAGE;
    function render() {
      var q = find.value.trim();
      var hits = pack.items.filter(function (c) { return !q || c.name.indexOf(q) >= 0; });
      list.textContent = '';
      // A child whose visit waits on the phone is said so, not offered a second form.
      var waiting = {};
      queue().forEach(function (i) { if (i.type === 'visit' && i.body) waiting[i.body.child_id] = true; });
      hits.slice(0, shown).forEach(function (c) {
        list.appendChild(waiting[c.child_id]
          ? el('p', { class: 'saved', text: c.name + '：走访已保存在手机上，联网后自动发送' })
          : childLine(c));
      });
      if (!hits.length) list.appendChild(el('p', { class: 'empty', text: '没有找到“' + q + '”。' }));
      var left = hits.length - Math.min(shown, hits.length);
      more.hidden = left <= 0;
      more.textContent = '显示更多（还有 ' + left + ' 名）';
    }
    find.oninput = function () { shown = PAGE; render(); };
    more.onclick = function () { shown += PAGE; render(); };
    render();
  }

  function childLine(c) {
    var line = el('details', { class: 'offline-child' + (c.overdue ? ' late' : ''), 'data-child': c.child_id });
    line.appendChild(el('summary', {}, [
      el('b', { text: c.name }),
      el('span', { class: 'sub', text: (c.overdue ? ' 已逾期 · ' : ' ') + '应走访 ' + c.due_on }),
    ]));
    line.addEventListener('toggle', function () {
      if (line.open && !line.querySelector('form')) line.appendChild(visitForm(c, line));
    });
    return line;
  }

  function visitForm(c, line) {
      var form = el('form', { class: 'offline-visit', 'data-child': c.child_id });
      // What records a fact starts blank: the person chooses what they saw.
      var kind = el('select', { name: 'kind' }, [el('option', { value: '', text: '请选择' })]);
      KINDS.forEach(function (k) { kind.appendChild(el('option', { value: k[0], text: k[1] })); });
      form.appendChild(el('label', { text: '走访方式' }, [kind]));
      var cond = el('select', { name: 'condition' }, [el('option', { value: '', text: '请选择' })]);
      CONDITIONS.forEach(function (k) { cond.appendChild(el('option', { value: k[0], text: k[1] })); });
      form.appendChild(el('label', { text: '儿童状况' }, [cond]));
      var problem = el('p', { class: 'err', role: 'alert' });
      form.appendChild(problem);
      form.appendChild(el('label', { text: '情况记录' }, [el('textarea', { name: 'note', rows: '2' })]));
      form.appendChild(el('label', { class: 'check' }, [el('input', { type: 'checkbox', name: 'reportable' }), el('span', { text: ' 发现应报告情形（如独自在家无人照料）' })]));
      Object.keys(FIELDS).forEach(function (f) {
        var v = c.fields[f] || '';
        form.appendChild(el('label', { text: FIELDS[f] }, [el('input', { name: 'field.' + f, value: v })]));
      });
      form.appendChild(el('button', { type: 'submit', class: 'primary', text: '保存到手机' }));
      form.onsubmit = function (ev) {
        ev.preventDefault();
        var get = function (n) { return form.elements[n]; };
        var blank = [['kind', '走访方式'], ['condition', '儿童状况']].filter(function (f) { return !get(f[0]).value; });
        if (blank.length) {
          problem.textContent = '请选择' + blank.map(function (f) { return f[1]; }).join('和');
          get(blank[0][0]).focus();
          return;
        }
        var body = {
          child_id: c.child_id, visited_at: new Date().toISOString(), kind: get('kind').value,
          condition: get('condition').value, note: get('note').value.trim() || null,
          reportable: get('reportable').checked,
        };
        var changes = {};
        Object.keys(FIELDS).forEach(function (f) {
          var now = get('field.' + f).value.trim();
          if (now !== (c.fields[f] || '')) changes[f] = now || null;
        });
        var items = [{ type: 'visit', name: c.name, body: body }];
        if (Object.keys(changes).length) {
          var base = {};
          Object.keys(changes).forEach(function (f) { base[f] = c.fields[f]; });
          items.push({ type: 'edit', name: c.name, child_id: c.child_id, base: base, changes: changes });
        }
        enqueue(items);
        line.replaceWith(el('p', { class: 'saved', text: c.name + '：已保存在手机上，联网后自动发送' + (body.reportable ? '；联网后请立即填写强制报告' : '') }));
        flush();
      };
      return form;
  }

  // Online on the visits page: keep the children due a visit on the phone for later.
  async function refreshPack() {
    if (!navigator.onLine || !document.querySelector('[data-offline-pack]')) return;
    try {
      var r = await fetch('/api/v1/visits/offline-pack', { credentials: 'same-origin' });
      if (!r.ok) return;
      var body = await r.json();
      save(PACK, { saved: today(), items: body.items });
    } catch (e) { /* offline meanwhile: keep the last list */ }
  }

  // The per-child visit form, if the signal drops before it is sent: kept on the phone instead.
  function holdFormsOffline() {
    document.querySelectorAll('form[data-offline-visit]').forEach(function (form) {
      form.addEventListener('submit', function (ev) {
        if (navigator.onLine) return;
        ev.preventDefault();
        var f = form.elements;
        var seen = Array.prototype.filter.call(form.querySelectorAll('input[name=seen]:checked'), function () { return true; })
          .map(function (x) { return x.value; });
        var condition = form.querySelector('input[name=condition]:checked');
        var method = f.method ? f.method.value : '';
        // Kept on the phone only once it says how the visit was made and how the child was: a
        // record the server would refuse could not be put right from the queue.
        if (!method || !condition) {
          say('请先选择' + [!method && '走访方式', !condition && '儿童状况'].filter(Boolean).join('和') + '，再保存到手机');
          (f.method && !method ? f.method : form.querySelector('input[name=condition]')).focus();
          return;
        }
        enqueue([{ type: 'visit', name: form.getAttribute('data-child-name') || '', body: {
          child_id: form.getAttribute('data-offline-visit'),
          visited_at: (f.visited_on && f.visited_on.value) || new Date().toISOString(),
          kind: method,
          visitor_role: f.visitor_role ? f.visitor_role.value : null,
          visitor_name: f.visitor_name ? f.visitor_name.value || null : null,
          seen: seen, condition: condition ? condition.value : null,
          note: f.note ? f.note.value.trim() || null : null,
          no_change: !!(f.no_change && f.no_change.checked), reportable: !!(f.reportable && f.reportable.checked),
        } }]);
        say('没有网络：这次走访已保存在手机上，联网后自动发送');
      });
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(function () {});
    var logout = document.querySelector('form[action="/logout"]');
    if (logout) logout.addEventListener('submit', function (ev) {
      var n = queue().length;
      if (n && !window.confirm('手机上还有 ' + n + ' 条离线记录未发送，退出将删除它们。确定退出？')) { ev.preventDefault(); return; }
      localStorage.removeItem(QUEUE);
      localStorage.removeItem(PACK);
    });
    holdFormsOffline();
    showPack();
    showQueue();
    refreshPack();
    flush();
  });
  window.addEventListener('online', function () { say('已联网，正在发送离线记录…'); flush(); });
  window.addEventListener('offline', function () { say('没有网络：走访可先保存在手机上'); });
})();

// The registration form: a valid ID number holds the child's sex and birth date, which the live
// check (#idcheck, data-sex / data-birth) fills in instead of asking for them again.
(function () {
  'use strict';
  document.addEventListener('htmx:afterSwap', function (e) {
    var target = e.detail && e.detail.target;
    if (!target || target.id !== 'idcheck') return;
    var ok = target.querySelector('[data-sex]');
    if (!ok) return;
    var sex = document.getElementById('f-sex');
    var birth = document.getElementById('f-birth_date');
    if (sex) sex.value = ok.getAttribute('data-sex');
    if (birth) birth.value = ok.getAttribute('data-birth');
  });
})();
