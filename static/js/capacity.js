/* The capacity page's charts, one per office: what each step can serve a day, against the
   places offered. Data from a json_script element (the CSP allows no inline scripts). */
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("capacity-chart-data");
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    document.querySelectorAll("canvas[data-capacity-chart]").forEach(function (canvas) {
      var office = data[canvas.getAttribute("data-capacity-chart")];
      var offered = office.labels.map(function () { return office.offered; });
      new window.Chart(canvas, {
        type: "bar",
        data: {
          labels: office.labels,
          datasets: [
            { type: "bar", label: data.text.per_day, data: office.per_day, backgroundColor: "rgba(1, 114, 173, 0.8)" },
            { type: "line", label: data.text.offered, data: offered, borderColor: "rgba(214, 92, 24, 0.9)",
              backgroundColor: "rgba(214, 92, 24, 0.9)", pointRadius: 0 }
          ]
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { position: "bottom" } },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
