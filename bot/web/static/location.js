// The chat's one script: "use my location" asks the browser where the
// student is, after they tap, and posts it like any other answer. Without
// it (or without a location) they type the place instead.
'use strict';
document.addEventListener('DOMContentLoaded', () => {
  const form = document.getElementById('location-form');
  const button = document.getElementById('locate');
  const status = document.getElementById('locate-status');
  if (!form || !button || !navigator.geolocation) {
    return;
  }
  button.hidden = false;
  button.addEventListener('click', () => {
    button.disabled = true;
    status.textContent = status.dataset.busy;
    navigator.geolocation.getCurrentPosition((pos) => {
      form.elements.lat.value = pos.coords.latitude.toFixed(6);
      form.elements.lon.value = pos.coords.longitude.toFixed(6);
      form.submit();
    }, () => {
      button.disabled = false;
      status.textContent = status.dataset.failed;
    }, {enableHighAccuracy: true, timeout: 20000, maximumAge: 60000});
  });
});
