//! Character tables, training pairs, and the batch sampler working together.

use datasets::{BatchSampler, CharTable, SAMPLE_TEXT, SequencePairs, gather_rows};

#[test]
fn sample_text_round_trip_and_pairs() {
    let table = CharTable::from_corpus(SAMPLE_TEXT).unwrap();
    // Sorted: newline first, then space, among the ASCII characters used.
    assert_eq!(table.chars()[0], '\n');
    assert_eq!(table.chars()[1], ' ');
    assert!(table.chars().windows(2).all(|w| w[0] < w[1]));
    let ids = table.to_indices(SAMPLE_TEXT).unwrap();
    assert_eq!(table.from_indices(&ids).unwrap(), SAMPLE_TEXT);

    let (window, step) = (40, 3);
    let pairs = SequencePairs::new(&ids, window, step).unwrap();
    // Starts 0, 3, 6, ... while start + 40 < len: ceil((len - 40) / 3) windows.
    assert_eq!(pairs.count, (ids.len() - window).div_ceil(step));
    let k = 5;
    let text: Vec<char> = SAMPLE_TEXT.chars().collect();
    let window_text: String = text[k * step..k * step + window].iter().collect();
    assert_eq!(
        table.from_indices(pairs.input(k).unwrap()).unwrap(),
        window_text
    );
    assert_eq!(
        table.char_at(pairs.targets[k]),
        Some(text[k * step + window])
    );
    let x = pairs.inputs_one_hot(&table);
    assert_eq!(x.len(), pairs.count * window * table.len());
    assert_eq!(x.iter().sum::<f32>() as usize, pairs.count * window);
}

#[test]
fn every_sample_once_per_epoch() {
    let data: Vec<f32> = (0..25 * 3).map(|v| v as f32).collect();
    let sampler = BatchSampler::new(25, 4).unwrap().shuffle(1);
    for epoch in 0..3 {
        let mut seen = [0usize; 25];
        let mut batches = 0;
        for batch in sampler.epoch(epoch) {
            let rows = gather_rows(&data, 3, &batch).unwrap();
            for (r, &i) in rows.chunks(3).zip(&batch) {
                // Row i holds 3i, 3i+1, 3i+2.
                assert_eq!(
                    r,
                    &[3.0 * i as f32, 3.0 * i as f32 + 1.0, 3.0 * i as f32 + 2.0]
                );
                seen[i] += 1;
            }
            batches += 1;
        }
        assert_eq!(batches, 7); // ceil(25 / 4)
        assert!(seen.iter().all(|&n| n == 1));
    }
    assert_ne!(sampler.order(0), sampler.order(1));
    assert_eq!(
        sampler.order(2),
        BatchSampler::new(25, 4).unwrap().shuffle(1).order(2)
    );
}
