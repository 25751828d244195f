use hc_behavior::clv::{self, BgNbd, GammaGamma};
use hc_behavior::dates::parse_day;

use crate::data;

fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs()
}

/// The published estimates were fitted on the 1/10 sample (2,357 customers).
#[test]
fn bg_nbd_reproduces_the_published_cdnow_estimates() {
    let Some(path) = data("cdnow/sample_calibration.csv") else {
        return;
    };
    let purchases = clv::load_purchases(&path).unwrap();
    let end = parse_day("1997-09-30").unwrap();
    let summaries = clv::summarize(&purchases, end, 7.0);
    let s: Vec<_> = summaries.iter().map(|x| x.1).collect();
    let fit = BgNbd::fit(&s).unwrap();
    // Fader, Hardie & Lee (2005), table 1.
    let published = BgNbd {
        r: 0.243,
        alpha: 4.414,
        a: 0.793,
        b: 2.426,
    };
    assert!(close(fit.r, published.r, 0.01), "{fit:?}");
    assert!(close(fit.alpha, published.alpha, 0.01), "{fit:?}");
    assert!(close(fit.a, published.a, 0.01), "{fit:?}");
    assert!(close(fit.b, published.b, 0.01), "{fit:?}");
    assert!(fit.log_likelihood(&s) >= published.log_likelihood(&s));

    // The full cohort (23,570 customers) is a different sample of the same
    // population: its estimates must stay close to the published ones.
    let master = clv::load_purchases(&data("cdnow/master_calibration.csv").unwrap()).unwrap();
    let ms: Vec<_> = clv::summarize(&master, end, 7.0)
        .into_iter()
        .map(|x| x.1)
        .collect();
    let full = BgNbd::fit(&ms).unwrap();
    eprintln!("master cohort: {full:?}");
    assert!(
        close(full.r, published.r, 0.1) && close(full.alpha, published.alpha, 0.15),
        "{full:?}"
    );
    assert!(full.log_likelihood(&ms) >= fit.log_likelihood(&ms));

    let gg = GammaGamma::fit(&s).unwrap();
    assert!(gg.q > 1.0, "finite mean spend needs q > 1: {gg:?}");
    let repeaters: Vec<f64> = s
        .iter()
        .filter(|x| x.frequency > 0.0)
        .map(|x| x.monetary)
        .collect();
    let mean = repeaters.iter().sum::<f64>() / repeaters.len() as f64;
    let implied = gg.p * gg.gamma / (gg.q - 1.0);
    assert!(
        close(implied, mean, 0.25),
        "population mean spend {implied} vs observed {mean}"
    );
}

#[test]
fn cdnow_calibration_file_has_the_documented_cohort() {
    let Some(path) = data("cdnow/master_calibration.csv") else {
        return;
    };
    let purchases = clv::load_purchases(&path).unwrap();
    assert_eq!(purchases.len(), 49_086);
    let end = parse_day("1997-09-30").unwrap();
    let summaries = clv::summarize(&purchases, end, 7.0);
    let sample_path = data("cdnow/sample_calibration.csv").unwrap();
    let sample = clv::summarize(&clv::load_purchases(&sample_path).unwrap(), end, 7.0);
    assert_eq!(sample.len(), 2357);
    // Every sampled customer's summary is the master file's summary of that customer.
    let master: std::collections::HashMap<_, _> = summaries.into_iter().collect();
    for (id, s) in &sample {
        assert_eq!(master.get(id), Some(s), "customer {id}");
    }
}

#[test]
fn a_bad_calibration_row_is_reported_with_its_line() {
    let dir = std::env::temp_dir().join(format!("hc-clv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("bad.csv");
    std::fs::write(
        &p,
        "customer_id,date,number_of_cds,dollar_value\n1,19970101,1,10\n2,19971345,1,5\n",
    )
    .unwrap();
    let err = clv::load_purchases(&p).unwrap_err();
    assert_eq!(err.code(), "invalid_file");
    assert!(err.to_string().contains("line 3"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bg_nbd_forecasts_a_held_back_quarter_of_cdnow() {
    let Some(path) = data("cdnow/master_calibration.csv") else {
        return;
    };
    let purchases = clv::load_purchases(&path).unwrap();
    // Calibrate on January–June 1997, forecast July–September.
    let (cal_end, end) = (
        parse_day("1997-06-30").unwrap(),
        parse_day("1997-09-30").unwrap(),
    );
    let summaries = clv::summarize(&purchases, cal_end, 7.0);
    let s: Vec<_> = summaries.iter().map(|x| x.1).collect();
    let fit = BgNbd::fit(&s).unwrap();
    let r = clv::holdout_report(&fit, &summaries, &purchases, cal_end, end, 7.0);
    assert_eq!(r.n, 23_570);
    let error = (r.predicted_total - r.actual_total).abs() / r.actual_total;
    assert!(error < 0.1, "{r:?}");
    assert!(r.correlation > 0.4, "{r:?}");
}
