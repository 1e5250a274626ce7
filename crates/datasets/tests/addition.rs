//! The Keras addition_rnn data set.

use std::collections::HashSet;

use datasets::{ADDITION_ALPHABET, AdditionProblems, addition_table};

#[test]
fn alphabet_indices() {
    let t = addition_table();
    assert_eq!(t.len(), 12);
    assert_eq!(t.index_of('0'), Some(0));
    assert_eq!(t.index_of('9'), Some(9));
    assert_eq!(t.index_of('+'), Some(10));
    assert_eq!(t.index_of(' '), Some(11));
    assert_eq!(ADDITION_ALPHABET.len(), 12);
}

#[test]
fn encode_by_hand() {
    let t = addition_table();
    let x = t.encode("1+2    ", 7).unwrap();
    assert_eq!(x.len(), 7 * 12);
    // Row 0 is '1' (index 1), row 1 '+' (10), row 2 '2' (2), rows 3..7 ' ' (11).
    let hot: Vec<usize> = x
        .chunks(12)
        .map(|r| r.iter().position(|&v| v == 1.0).unwrap())
        .collect();
    assert_eq!(hot, vec![1, 10, 2, 11, 11, 11, 11]);
    assert_eq!(x.iter().sum::<f32>(), 7.0);
    assert!(t.encode("1+2", 7).is_err());
    assert!(t.encode("1-2    ", 7).is_err());
}

#[test]
fn encode_decode_round_trip() {
    let p = AdditionProblems::generate(2000, 3, 11, true).unwrap();
    let t = addition_table();
    let xq = p.encode_questions();
    let ya = p.encode_answers();
    assert_eq!(xq.len(), 2000 * 7 * 12);
    assert_eq!(ya.len(), 2000 * 4 * 12);
    for i in 0..p.len() {
        assert_eq!(t.decode(&xq[i * 84..(i + 1) * 84]).unwrap(), p.questions[i]);
        assert_eq!(t.decode(&ya[i * 48..(i + 1) * 48]).unwrap(), p.answers[i]);
    }
    // Decoding probabilities takes the arg-max of each row.
    let mut probs = vec![0.01f32; 4 * 12];
    for (row, idx) in [1usize, 5, 11, 11].iter().enumerate() {
        probs[row * 12 + idx] = 0.9;
    }
    assert_eq!(t.decode(&probs).unwrap(), "15  ");
}

#[test]
fn questions_are_unique_and_answers_correct() {
    let p = AdditionProblems::generate(50_000, 3, 1234, false).unwrap();
    assert_eq!(p.len(), 50_000);
    let strings: HashSet<&String> = p.questions.iter().collect();
    assert_eq!(strings.len(), 50_000);
    let pairs: HashSet<(u64, u64)> = p
        .operands
        .iter()
        .map(|&(a, b)| (a.min(b), a.max(b)))
        .collect();
    assert_eq!(pairs.len(), 50_000);
    for (q, a) in p.questions.iter().zip(&p.answers) {
        assert_eq!(q.len(), 7);
        assert_eq!(a.len(), 4);
        let (x, y) = q.trim().split_once('+').unwrap();
        assert!(x.len() <= 3 && y.len() <= 3);
        let sum: u64 = x.parse::<u64>().unwrap() + y.parse::<u64>().unwrap();
        assert_eq!(a.trim(), sum.to_string());
        assert!(!a.starts_with(' '));
    }
}

#[test]
fn reversal_is_optional() {
    let plain = AdditionProblems::generate(300, 3, 5, false).unwrap();
    let rev = AdditionProblems::generate(300, 3, 5, true).unwrap();
    // Same seed, same problems; only the question strings differ.
    assert_eq!(plain.operands, rev.operands);
    assert_eq!(plain.answers, rev.answers);
    for (p, r) in plain.questions.iter().zip(&rev.questions) {
        assert_eq!(p.chars().rev().collect::<String>(), *r);
    }
    // A padded question starts with a digit unreversed and ends with one reversed.
    assert!(
        plain
            .questions
            .iter()
            .all(|q| q.starts_with(|c: char| c.is_ascii_digit()))
    );
    assert!(
        rev.questions
            .iter()
            .all(|q| q.ends_with(|c: char| c.is_ascii_digit()))
    );
    assert_eq!(plain.question_text(0), rev.question_text(0));
}

#[test]
fn seeds_reproduce() {
    let a = AdditionProblems::generate(500, 3, 99, true).unwrap();
    assert_eq!(a, AdditionProblems::generate(500, 3, 99, true).unwrap());
    assert_ne!(
        a.questions,
        AdditionProblems::generate(500, 3, 100, true)
            .unwrap()
            .questions
    );
}

#[test]
fn too_many_questions_is_an_error_not_a_hang() {
    // Two digits: numbers 0..=99, 100*101/2 = 5050 unordered pairs.
    assert_eq!(AdditionProblems::max_unique(2), 5050);
    let all = AdditionProblems::generate(5050, 2, 0, false).unwrap();
    assert_eq!(all.len(), 5050);
    let err = AdditionProblems::generate(5051, 2, 0, false).unwrap_err();
    assert!(err.to_string().contains("5050"), "{err}");
    assert!(AdditionProblems::generate(10, 0, 0, false).is_err());
    assert!(AdditionProblems::generate(10, 10, 0, false).is_err());
}

#[test]
fn keras_split() {
    let p = AdditionProblems::generate(50_000, 3, 7, true).unwrap();
    let (train, val) = p.split(0.1).unwrap();
    assert_eq!((train.len(), val.len()), (45_000, 5_000));
    assert_eq!(train.questions[..], p.questions[..45_000]);
    assert_eq!(val.answers[..], p.answers[45_000..]);
}
