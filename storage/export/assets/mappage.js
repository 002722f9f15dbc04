// The map page of the emotional map (storage/export/mappage.go): pins from
// the JSON block, coloured by feeling, filtered by feeling and forum, with a
// heat view. Students' text only ever goes into the page as textContent.
(function () {
	'use strict';

	var data = JSON.parse(document.getElementById('pins-data').textContent);
	var groups = data.groups, words = data.words;

	function el(tag, className, text) {
		var e = document.createElement(tag);
		if (className) {
			e.className = className;
		}
		if (text !== undefined && text !== null) {
			e.textContent = text;
		}
		return e;
	}

	// For the attribution, which Leaflet writes as HTML: the words are ours,
	// escaped all the same.
	function escapeHTML(s) {
		return String(s).replace(/[&<>"']/g, function (c) {
			return '&#' + c.charCodeAt(0) + ';';
		});
	}

	var mapEl = document.getElementById('map');
	var map = L.map(mapEl, { zoomSnap: 0.5 });
	// Without network the tiles fail quietly (Leaflet keeps a failed tile
	// invisible); the pins need none.
	L.tileLayer('https://tile.openstreetmap.org/{z}/{x}/{y}.png', {
		maxZoom: 19,
		attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">' + escapeHTML(words.attribution) + '</a>'
	}).addTo(map);

	function popup(p) {
		var g = groups[p.g];
		var box = el('div', 'pin-popup');
		box.appendChild(el('strong', 'feeling', g.words));
		if (p.comment) {
			box.appendChild(el('p', 'comment', p.comment));
		}
		var dl = el('dl');
		function row(term, value) {
			if (value) {
				dl.appendChild(el('dt', null, term));
				dl.appendChild(el('dd', null, value));
			}
		}
		row(words.forum, p.forumName);
		row(words.date, p.date);
		row(words.age, p.age);
		box.appendChild(dl);
		return box;
	}

	var pinsLayer = L.layerGroup().addTo(map);
	var markers = [];
	data.pins.forEach(function (p) {
		if (p.lat === undefined || p.lon === undefined) {
			return; // a typed place: in the table under the map
		}
		var g = groups[p.g];
		// A vector circle: no marker image to load.
		var m = L.circleMarker([p.lat, p.lon], {
			radius: 8,
			color: '#1f1f1f',
			weight: 2,
			opacity: 0.9,
			dashArray: g.dash || null,
			fillColor: g.color,
			fillOpacity: 0.9,
			className: 'pin pin-' + g.feeling
		});
		m.on('add', function () {
			m.getElement().setAttribute('data-pin', String(p.id));
		});
		m.bindPopup(function () { return popup(p); }, { maxWidth: 320 });
		markers.push({ pin: p, marker: m });
	});

	// Every pin weighs fully from zoom 13 (a town) on; two pins together
	// are the hottest colour.
	var heat = L.heatLayer([], { radius: 28, blur: 20, minOpacity: 0.3, maxZoom: 13, max: 2 });

	var boxes = document.querySelectorAll('#legend input[type=checkbox]');
	var counts = document.querySelectorAll('#legend .count');
	var forumSelect = document.getElementById('forum');
	var heatBox = document.getElementById('heat');
	var rows = document.querySelectorAll('#typed tbody tr');
	var total = document.getElementById('total');

	function shownGroups() {
		var on = {};
		boxes.forEach(function (b) {
			on[b.getAttribute('data-group')] = b.checked;
		});
		return on;
	}

	function inForum(forum) {
		return forumSelect.value === '' || forum === forumSelect.value;
	}

	function fit() {
		var ll = [];
		markers.forEach(function (x) {
			if (pinsLayer.hasLayer(x.marker)) {
				ll.push(x.marker.getLatLng());
			}
		});
		if (ll.length === 0) {
			map.setView([55, 13], 4, { animate: false }); // between the programme's cities
			return;
		}
		// At once: a heat view drawn while the map still zooms would be off.
		map.fitBounds(L.latLngBounds(ll), { padding: [30, 30], maxZoom: 16, animate: false });
	}

	function update() {
		var on = shownGroups();
		var n = 0, byGroup = {}, hot = [];
		data.pins.forEach(function (p) {
			if (inForum(p.forum)) {
				byGroup[p.g] = (byGroup[p.g] || 0) + 1;
				if (on[p.g]) {
					n++;
				}
			}
		});
		markers.forEach(function (x) {
			var show = on[x.pin.g] && inForum(x.pin.forum);
			if (show) {
				pinsLayer.addLayer(x.marker);
				hot.push([x.pin.lat, x.pin.lon]);
			} else {
				pinsLayer.removeLayer(x.marker);
			}
		});
		rows.forEach(function (r) {
			r.hidden = !(on[r.getAttribute('data-group')] && inForum(r.getAttribute('data-forum')));
		});
		counts.forEach(function (c, i) {
			c.textContent = String(byGroup[boxes[i].getAttribute('data-group')] || 0);
		});
		total.textContent = String(n);
		heat.setLatLngs(hot);
	}

	boxes.forEach(function (b) {
		b.addEventListener('change', update);
	});
	forumSelect.addEventListener('change', function () {
		update();
		fit();
	});
	heatBox.addEventListener('change', function () {
		if (heatBox.checked) {
			heat.addTo(map);
			mapEl.classList.add('heat-on');
		} else {
			map.removeLayer(heat);
			mapEl.classList.remove('heat-on');
		}
	});

	update();
	fit();
}());
