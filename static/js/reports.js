/* The reports dashboard's charts. Data comes from a json_script element (the CSP allows no
   inline scripts); Chart.js is vendored in static/vendor/chartjs-4.6.1. */
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("report-chart-data");
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var offeredColor = "rgba(1, 114, 173, 0.9)";
    var takenColor = "rgba(214, 92, 24, 0.75)";
    var common = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { position: "bottom" } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
    };

    var quota = document.getElementById("chart-quota");
    if (quota) {
      new window.Chart(quota, {
        type: "bar",
        data: {
          labels: data.labels.map(function (day) { return day.slice(8); }),
          datasets: [
            { type: "line", label: data.text.offered, data: data.offered, borderColor: offeredColor,
              backgroundColor: offeredColor, pointRadius: 0, stepped: "middle" },
            { type: "bar", label: data.text.taken, data: data.taken, backgroundColor: takenColor }
          ]
        },
        options: common
      });
    }

    var weekparts = document.getElementById("chart-weekparts");
    if (weekparts) {
      new window.Chart(weekparts, {
        type: "bar",
        data: {
          labels: data.weekparts.labels,
          datasets: [
            { label: data.text.offered, data: data.weekparts.offered, backgroundColor: offeredColor },
            { label: data.text.taken, data: data.weekparts.taken, backgroundColor: takenColor }
          ]
        },
        options: common
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
